import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { labelOf, nodePaths, type FuzzCase } from './cases.ts';
import type { Operation } from './openapi.ts';
import { encodeComponent, RAW_BODIES, type PathValue } from './values.ts';
import type { World } from './world.ts';

/** A concrete request built from a case against the seeded world. */
export interface BuiltRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  label: string;
  /** The workspaces whose data this sender may see (its key's, a valid resume token's). */
  viewers: Set<'A' | 'B'>;
  /** The owner of the object the request names, if it names a real one. */
  targetOwner: 'A' | 'B' | undefined;
  /** The input is one DESIGN.md refuses (bad id, NUL, lone surrogate, out-of-range date, bad cursor...): never a 2xx. */
  mustRefuse: boolean;
}

/** What came back: `status` 0 when nothing did within the time limit or the socket failed. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
  ms: number;
  failure?: string;
}

const DEEP = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
const WIDE = JSON.stringify(Array.from({ length: 10_000 }, () => 'a'));
let forwardedFor = 0;

function resolveTarget(
  c: FuzzCase,
  kind: keyof World['A']['ids'],
  world: World,
): { id: string; owner: 'A' | 'B' | undefined } {
  if (c.target === 'random') return { id: c.unknownId, owner: undefined };
  const owner = c.target === 'B' ? 'B' : 'A';
  const id = world[owner].ids[kind];
  return { id: c.target === 'A-upper' ? id.toUpperCase() : id, owner };
}

function encodePathValue(value: PathValue, realId: string): string {
  return 'encoded' in value ? value.encoded : encodeComponent(value.raw.replace('@real', realId));
}

/** Replaces `@form`/`@url` placeholders in a body; returns a fresh copy. */
function fill(value: unknown, formId: string, url: string): unknown {
  if (value === '@form') return formId;
  if (value === '@url') return url;
  if (Array.isArray(value)) return value.map((v) => fill(v, formId, url));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, formId, url)]));
  return value;
}

function mutate(body: unknown, at: number, cls: string, replacement: unknown): unknown {
  const paths = nodePaths(body);
  const path = paths[at % paths.length] ?? [];
  const copy = structuredClone(body) as unknown;
  const parentOf = (p: (string | number)[]) =>
    p
      .slice(0, -1)
      .reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], copy);
  const node = path.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], copy);
  if (cls === 'extra-property') {
    if (node !== null && typeof node === 'object' && !Array.isArray(node))
      Object.assign(node, replacement);
    else if (path.length === 0 || Array.isArray(node)) return [copy, replacement];
    else
      (parentOf(path) as Record<string | number, unknown>)[path[path.length - 1] ?? ''] =
        replacement;
    return copy;
  }
  if (path.length === 0) return replacement;
  (parentOf(path) as Record<string | number, unknown>)[path[path.length - 1] ?? ''] = replacement;
  return copy;
}

const TEXT_RULE = new Set(['nul', 'lone-surrogate']);
const DATE_RULE = new Set([
  'nul',
  'lone-surrogate',
  'date-extreme',
  'offset-beyond-14',
  'date-garbage',
]);
const LIMIT_RULE = new Set([
  'nul',
  'lone-surrogate',
  'wrong-type',
  'huge',
  'negative',
  'nan',
  'long-2000',
  'date-extreme',
  'offset-beyond-14',
  'date-garbage',
  'cursor-invalid',
  'cursor-odd',
]);
const CURSOR_RULE = new Set([...LIMIT_RULE].filter((c) => c !== 'cursor-odd').concat(['dsl-json']));

/**
 * Inputs DESIGN.md section 3a refuses whatever the route: a path id that is no UUID; NUL
 * or a lone surrogate in any declared query parameter or any body text; dates out of
 * years 1-9999 or offsets beyond +-14:00 in `since`/`until`; a bad `limit` or cursor;
 * metadata nested deeper than 16 levels.
 */
function mustRefuse(op: Operation, focus: FuzzCase['focus'], label: string): boolean {
  if (focus.kind === 'path') return focus.cls !== 'uuid-variant' && focus.cls !== 'dot-dot';
  if (focus.kind === 'query') {
    if (!op.query.some((q) => q.name === focus.param)) return false;
    if (focus.param === 'since' || focus.param === 'until') return DATE_RULE.has(focus.cls);
    if (focus.param === 'limit') return LIMIT_RULE.has(focus.cls);
    if (focus.param === 'cursor')
      return (
        CURSOR_RULE.has(focus.cls) ||
        (focus.cls === 'cursor-bad-time' && /\/(responses|deliveries)$/.test(op.path))
      );
    return TEXT_RULE.has(focus.cls);
  }
  if (focus.kind === 'body-field')
    return TEXT_RULE.has(focus.cls) || label === 'body:metadata:deep-10000';
  return false;
}

/** Turns a case into the request to send. */
export function buildRequest(
  op: Operation,
  c: FuzzCase,
  world: World,
  receiverUrl: string,
): BuiltRequest {
  const names =
    op.idKind !== undefined ||
    JSON.stringify(c.body ?? null).includes('"@form"') ||
    Object.values(c.query).includes('@form');
  const target = resolveTarget(c, op.idKind ?? 'form', world);
  const form = resolveTarget(c, 'form', world);
  const viewers = new Set<'A' | 'B'>();
  if (c.auth === 'A' || c.auth === 'B') viewers.add(c.auth);
  const focus = c.focus;
  const method = focus.kind === 'method' ? focus.method : op.method;

  let path = op.path.replace(
    '{id}',
    focus.kind === 'path' ? encodePathValue(focus.value, target.id) : encodeComponent(target.id),
  );
  const query = { ...c.query };
  const pairs = Object.entries(query).map(
    ([k, v]) => `${encodeComponent(k)}=${encodeComponent(v === '@form' ? form.id : v)}`,
  );
  if (focus.kind === 'query')
    pairs.push(`${encodeComponent(focus.param)}=${encodePathValue(focus.value, target.id)}`);
  if (pairs.length > 0) path += `?${pairs.join('&')}`;

  const headers: Record<string, string> = {
    'x-forwarded-for': `10.${(forwardedFor >> 16) & 255}.${(forwardedFor >> 8) & 255}.${forwardedFor++ & 255}`,
  };
  const key = {
    none: undefined,
    A: world.A.key,
    B: world.B.key,
    admin: world.adminKey,
    bogus: 'fh_bogus_0123456789abcdef0123456789',
  }[c.auth];
  if (key) headers.authorization = `Bearer ${key}`;
  const tokenOwner = target.owner ?? 'A';
  for (const [name, value] of Object.entries(c.headers)) {
    headers[name] = value === '@resume' ? world[tokenOwner].resumeToken : value;
    if (value === '@resume' && target.owner && op.idKind === 'response') viewers.add(target.owner);
  }
  if (focus.kind === 'header') {
    const other = world[tokenOwner === 'A' ? 'B' : 'A'].resumeToken;
    headers[focus.name] = focus.value
      .replaceAll('@key', key ?? world.A.key)
      .replace('@otherToken', other);
    // A broken token grants nothing, but a key sent alongside still does.
    if (focus.name === 'x-resume-token' && target.owner && c.auth !== target.owner)
      viewers.delete(target.owner);
    if (focus.name === 'authorization') {
      // A sender who still sends a workspace key, however oddly written, may see that workspace's data.
      viewers.clear();
      const holder = { A: 'A', B: 'B', none: 'A', admin: undefined, bogus: undefined } as const;
      const workspace = holder[c.auth];
      if (focus.value.includes('@key') && workspace) viewers.add(workspace);
    }
  }

  let body: string | Buffer | undefined;
  let contentType: string | null = null;
  const base = fill(c.body, form.id, receiverUrl);
  if (focus.kind === 'body-raw') {
    body = RAW_BODIES[focus.cls]?.() ?? '';
    contentType = focus.cls === 'ndjson' ? 'application/x-ndjson' : 'application/json';
  } else if (focus.kind === 'body-random') {
    body = JSON.stringify(focus.value);
    contentType = 'application/json';
  } else if (focus.kind === 'body-field' && base !== undefined) {
    body = JSON.stringify(mutate(base, focus.at, focus.cls, focus.value))
      .replace('"@deep"', DEEP)
      .replace('"@wide"', WIDE);
    contentType = 'application/json';
  } else if (base !== undefined || focus.kind === 'content-type') {
    body = JSON.stringify(base ?? {});
    contentType = focus.kind === 'content-type' ? focus.value : 'application/json';
  }
  if (contentType) headers['content-type'] = contentType;
  // Node frames a body of GET/DELETE/OPTIONS only when told its length.
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return {
    method,
    path,
    headers,
    body,
    label: labelOf(focus, base, c.bodyFrom),
    mustRefuse: mustRefuse(op, focus, labelOf(focus, base, c.bodyFrom)),
    viewers,
    targetOwner: names ? target.owner : undefined,
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/**
 * Sends `req` over real HTTP and reads the answer within `timeoutMs`. A `text/event-stream`
 * answer is read to its headers only, then the request is aborted (the SSE route never ends).
 */
export function send(baseUrl: URL, req: BuiltRequest, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: Omit<Answer, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...answer, ms: performance.now() - started });
    };
    const outgoing = httpRequest(
      {
        host: baseUrl.hostname,
        port: baseUrl.port,
        method: req.method,
        path: req.path,
        headers: req.headers,
        agent,
      },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.startsWith('text/event-stream')) {
          finish({ status: res.statusCode ?? 0, contentType, body: '' });
          outgoing.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 4_000_000) chunks.push(chunk);
        });
        res.on('end', () =>
          finish({
            status: res.statusCode ?? 0,
            contentType,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) =>
          finish({
            status: res.statusCode ?? 0,
            contentType,
            body: '',
            failure: `answer broke: ${error.message}`,
          }),
        );
      },
    );
    const timer = setTimeout(() => {
      finish({
        status: 0,
        contentType: '',
        body: '',
        failure: `no complete answer within ${timeoutMs} ms`,
      });
      outgoing.destroy();
    }, timeoutMs);
    outgoing.on('error', (error) =>
      finish({ status: 0, contentType: '', body: '', failure: `socket: ${error.message}` }),
    );
    if (req.body !== undefined) outgoing.end(req.body);
    else outgoing.end();
  });
}
