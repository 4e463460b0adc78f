/** Small pure helpers every capability may use; this folder imports nothing of the hub's. */
export { etagMatches } from './etag.ts';
export { isUuid, normaliseId, uuidv7 } from './ids.ts';
export {
  findTextProblem,
  formatPath,
  MAX_INPUT_DEPTH,
  measureJson,
  textProblem,
  type JsonMeasure,
  type JsonPath,
  type TextProblem,
} from './json-inspect.ts';
export { startLoop, type Loop, type LoopOptions, type TickCause } from './loop.ts';
export { SCOPES, formLimitOf, mayReachForm, type Principal, type Scope } from './principal.ts';
export { hashToken, randomToken } from './secrets.ts';
export { CLOSE_DEADLINE_MS, finishedWithin } from './deadline.ts';
