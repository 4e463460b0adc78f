import type { Operation } from './openapi.ts';
import type { Answer, BuiltRequest } from './request.ts';
import type { World } from './world.ts';

/** One broken property of one answer. */
export interface Violation {
  property: string;
  status: number;
  code: string;
  detail: string;
}

/** 503 is allowed only with these codes (load shedding, QUERY_TIMEOUT). */
const ALLOWED_503 = new Set(['unavailable', 'query_timeout']);
/** A stack frame, a source path or a module path in a body. */
const STACK_TRACE =
  /(\n\s*at \S.*:\d+:\d+|\bat [\w.<>]+ \((?:file:|\/)[^)]*:\d+:\d+\)|node_modules\/|\/src\/[\w/-]+\.[cm]?[jt]s|file:\/\/\/)/;

/** The `error.code` of an error body, or `-` when it has none. */
export function codeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown }; code?: unknown };
    if (typeof parsed.error?.code === 'string') return parsed.error.code;
    if (typeof parsed.code === 'string') return `(top-level) ${parsed.code}`;
  } catch {
    return body.length === 0 ? '(empty)' : '(not JSON)';
  }
  return '-';
}

function isErrorShape(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      Object.keys(parsed).join() === 'error' &&
      typeof parsed.error?.code === 'string' &&
      typeof parsed.error.message === 'string'
    );
  } catch {
    return false;
  }
}

/**
 * The properties every answer must keep (DESIGN.md sections 3 and 3a): an answer within the
 * time limit; no 5xx but 503 `unavailable`/`query_timeout`; every non-2xx in the error shape
 * without stack traces; no write-only secret ever; nothing of a workspace the sender may
 * not see; a key of one workspace naming another's object gets 404.
 */
export function violationsOf(
  op: Operation,
  req: BuiltRequest,
  answer: Answer,
  world: World,
  timeoutMs: number,
): Violation[] {
  const code = answer.status === 0 ? '-' : codeOf(answer.body);
  const out: Violation[] = [];
  const add = (property: string, detail: string) =>
    out.push({ property, status: answer.status, code, detail });
  if (answer.status === 0) {
    add('answer-in-time', answer.failure ?? 'no answer');
    return out;
  }
  if (answer.ms > timeoutMs) add('answer-in-time', `${Math.round(answer.ms)} ms`);
  if (answer.status >= 500 && !(answer.status === 503 && ALLOWED_503.has(code)))
    add('no-5xx', answer.body.slice(0, 200));
  const headOrNotModified = req.method === 'HEAD' || answer.status === 304;
  if (
    (answer.status < 200 || answer.status >= 300) &&
    !headOrNotModified &&
    !isErrorShape(answer.body)
  )
    add('error-shape', answer.body.slice(0, 200) || '(empty body)');
  if (STACK_TRACE.test(answer.body))
    add('no-stack-trace', STACK_TRACE.exec(answer.body)?.[0].trim().slice(0, 160) ?? '');
  if (req.mustRefuse && answer.status >= 200 && answer.status < 300)
    add('hostile-input-refused', `accepted: ${answer.body.slice(0, 160)}`);
  for (const [i, secret] of world.secrets.entries())
    if (answer.body.includes(secret))
      add('secret-write-only', `holds a webhook ${i % 2 === 0 ? 'secret' : 'custom header value'}`);
  out.push(...leaks(op, req, answer, world, code));
  return out;
}

function leaks(
  op: Operation,
  req: BuiltRequest,
  answer: Answer,
  world: World,
  code: string,
): Violation[] {
  const out: Violation[] = [];
  const sent = `${decodeURIComponentSafe(req.path)} ${req.body?.toString() ?? ''}`.toLowerCase();
  const body = answer.body.toLowerCase();
  for (const ws of ['A', 'B'] as const) {
    if (req.viewers.has(ws)) continue;
    if (answer.body.includes(world[ws].canary))
      out.push({
        property: 'tenant-isolation',
        status: answer.status,
        code,
        detail: `answer holds workspace ${ws}'s private data`,
      });
    for (const [id, owner] of world.owner)
      if (owner === ws && body.includes(id) && !sent.includes(id)) {
        out.push({
          property: 'tenant-isolation',
          status: answer.status,
          code,
          detail: `answer names ${ws}'s object ${id} that the request did not`,
        });
        break;
      }
  }
  const foreign =
    req.targetOwner !== undefined && req.viewers.size > 0 && !req.viewers.has(req.targetOwner);
  // Public routes serve anyone (a resume token route only when one is sent): another workspace's key is just a visitor there.
  const usesToken = op.headers.some((h) => h.name === 'x-resume-token');
  const open = op.public && (!usesToken || 'x-resume-token' in req.headers);
  if (foreign && !open) {
    if (answer.status >= 200 && answer.status < 300)
      out.push({
        property: 'cross-workspace-404',
        status: answer.status,
        code,
        detail: `another workspace's object answered ${answer.status}`,
      });
    // 400 refuses the query before any lookup (e.g. a format the route cannot stream): it says nothing of the object.
    else if (req.label === 'baseline' && ![400, 404, 429, 503].includes(answer.status))
      out.push({
        property: 'cross-workspace-404',
        status: answer.status,
        code,
        detail: `a valid request for another workspace's object answered ${answer.status}, not 404 (a 403, 409 or 422 tells it exists)`,
      });
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
