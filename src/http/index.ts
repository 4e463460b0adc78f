/**
 * The route toolkit every capability's routes use: auth hooks, schemas, cursors, rate
 * limits, the error handler and the fastify plugins the app is assembled from (the app
 * itself is built in src/hub).
 */
export {
  bearerKey,
  createAuthHooks,
  optionalWorkspaceOf,
  workspaceOf,
  type AuthHooks,
} from './auth.ts';
export { registerBoundedClose, HTTP_CLOSE_GRACE_MS } from './bounded-close.ts';
export { lazyChildLoggerFactory } from './lazy-logger.ts';
export { clientSignal } from './client-signal.ts';
export { CONSOLE_OUT_DIR, registerConsole } from './console.ts';
export { decodeCursor, decodeIdCursor, decodeTimeCursor, encodeCursor, pageOf } from './cursor.ts';
export { frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandler } from './error-handler.ts';
export { registerHealthRoutes, type HealthChecks } from './health.ts';
export { normaliseIds, registerIdCase } from './id-case.ts';
export { registerLoadShedding, sheddingBounds, SHED_RETRY_AFTER_S } from './load-shedding.ts';
export {
  createMetricsRegistry,
  registerHttpMetrics,
  CLUSTER_METRICS_REPLY,
  CLUSTER_METRICS_REQUEST,
  type ClusterMetricsReply,
} from './metrics.ts';
export { registerOpenApi } from './openapi.ts';
export type { CounterStore } from './counter-store.ts';
export { MemoryCounterStore } from './memory-counter-store.ts';
export { RedisCounterStore } from './redis-counter-store.ts';
export {
  createRateLimiter,
  createUnauthorizedLimiter,
  type RateLimiter,
  type RateLimitOptions,
  type UnauthorizedLimiter,
} from './rate-limit.ts';
export {
  listingForms,
  missingScope,
  scoped,
  type FormOf,
  type FormResource,
  type RouteForm,
  type RouteScope,
} from './scopes.ts';
export { errorResponses, ErrorBody, IdParams, Page, PageQuery, Timestamp } from './schemas.ts';
export {
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  serverOptions,
  SOCKET_IDLE_TIMEOUT_MS,
  writeClientError,
} from './server-options.ts';
export { createValidatorCompiler } from './validators.ts';
