/**
 * The submit benchmark's baseline: the least a server must do to accept a submission.
 * A bare `node:http` server that parses the JSON body and runs one plain INSERT of the
 * response into an identical `responses` table through a `pg.Pool`, then answers 201 with
 * the row as JSON. No validation, no form lookup, no outbox event.
 *
 * With BARE_MODE=hub-sql it runs, still without fastify or validation, the hub's SQL: the
 * form lookup (`findFormById`) once per form, then kept in a Map as the hub keeps it in its
 * in-process cache, and per submission the one statement that writes the response and its
 * outbox event (`insertResponseWithEvent`). Both then run one statement per submission, so
 * the difference from the hub is the framework, validation and the cache library, and the
 * difference from `insert` is the outbox row.
 *
 * With BARE_MODE=same (`bare-same`, the baseline of the ratio verdict) it does the hub's whole
 * submission work without the framework: the body's shape, the text check, the hub's own
 * validator against the form, the metadata bounds, the same one statement, the NOTIFY after
 * it and the same 201 body (bare-same.ts says what exactly). `insert` and `hub-sql` do
 * less than the hub (no validation, no NOTIFY): kept for comparison with earlier figures.
 *
 *   DATABASE_URL=... WORKSPACE_ID=... PORT=... POOL_SIZE=50 node --import tsx bench/baseline/bare-insert-server.ts
 *
 *   BARE_MODE=insert | hub-sql | same (default insert)
 *
 * Routes: `POST /api/v2/forms/:id/responses` and `GET /healthz`. SIGTERM stops it.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { uuidv7 } from '../../src/common/ids.ts';
import type { Queryable, QueryOptions, QueryResult } from '../../src/db/index.ts';
import { findFormById } from '../../src/forms/queries.ts';
import {
  asRow,
  insertResponseWithEvent,
  type NewResponse,
  type ResponseRow,
} from '../../src/responses/queries.ts';
import { createSameSubmit } from './bare-same.ts';

const BODY_LIMIT_BYTES = 1024 * 1024;
const ROUTE = /^\/api\/v2\/forms\/([0-9a-f-]{36})\/responses$/;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bare-insert-server: ${name} is required`);
  return value;
}

const poolSize = Number(process.env.POOL_SIZE ?? 50);
const pool = new pg.Pool({
  connectionString: required('DATABASE_URL'),
  max: poolSize,
  min: Math.min(Number(process.env.POOL_MIN ?? 10), poolSize),
  idleTimeoutMillis: 30_000,
});
pool.on('error', () => undefined);
/** As the hub's PgDatabase runs statements: a named one (QueryOptions) is prepared once per connection. */
function queryable(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(
      sql: string,
      params?: readonly unknown[],
      options?: QueryOptions,
    ): Promise<QueryResult<R>> {
      const values = params as unknown[] | undefined;
      const result = await (options?.name
        ? target.query({ name: options.name, text: sql, values })
        : target.query(sql, values));
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
  };
}
const db = queryable(pool);
const workspaceId = required('WORKSPACE_ID');
const mode = process.env.BARE_MODE ?? 'insert';
if (mode !== 'insert' && mode !== 'hub-sql' && mode !== 'same')
  throw new Error('bare-insert-server: BARE_MODE must be insert, hub-sql or same');
const sameSubmit = mode === 'same' ? createSameSubmit(db) : undefined;

type Presented = ReturnType<typeof present>;

function present(row: ResponseRow) {
  return {
    id: row.id,
    form_id: row.form_id,
    data: row.data,
    completed: row.completed,
    submitted_at: row.submitted_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    metadata: row.metadata,
  };
}

const INSERT = `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, metadata,
    submitted_at, updated_at, resume_token_hash, idempotency_key, idempotency_hash)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $8, $9, $10, $11)
  RETURNING id, workspace_id, form_id, data, completed, metadata, submitted_at, updated_at,
    resume_token_hash, idempotency_hash`;

/** The single INSERT. */
async function insertOnly(r: NewResponse): Promise<Presented | undefined> {
  const { rows } = await db.query<ResponseRow>(INSERT, [
    r.id,
    r.workspaceId,
    r.formId,
    r.formVersion,
    JSON.stringify(r.data),
    r.completed,
    JSON.stringify(r.metadata),
    r.now,
    r.resumeTokenHash,
    r.idempotencyKey,
    r.idempotencyHash,
  ]);
  return rows[0] && present(rows[0]);
}

/** Forms looked up so far: the hub serves a published form from its cache, not PostgreSQL. */
const forms = new Map<string, Awaited<ReturnType<typeof findFormById>>>();

/** The hub's statements: the form (cached after its first lookup), then the response and its event in one statement. */
async function hubStatements(response: NewResponse): Promise<Presented | undefined> {
  let form = forms.get(response.formId);
  if (!form) {
    form = await findFormById(db, response.formId);
    forms.set(response.formId, form);
  }
  if (!form || form.status !== 'published') return undefined;
  const fresh = { ...response, workspaceId: form.workspace_id, formVersion: form.version };
  const presented = present(asRow(fresh));
  const written = await insertResponseWithEvent(db, fresh, {
    id: uuidv7(),
    type: 'response.submitted',
    payloadJson: JSON.stringify({ response: presented }),
  });
  return written ? presented : undefined;
}

const store = mode === 'hub-sql' ? hubStatements : insertOnly;

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT_BYTES) parts.push(chunk);
    });
    req.on('end', () =>
      resolve(size > BODY_LIMIT_BYTES ? null : Buffer.concat(parts).toString('utf8')),
    );
    req.on('error', reject);
  });
}

async function submit(req: IncomingMessage, res: ServerResponse, formId: string): Promise<void> {
  const text = await readBody(req);
  if (text === null)
    return send(res, 413, {
      error: { code: 'payload_too_large', message: 'over 1 MiB', details: [] },
    });
  let body: { data?: unknown; completed?: unknown; metadata?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return send(res, 400, { error: { code: 'invalid_request', message: 'bad JSON', details: [] } });
  }
  if (sameSubmit) {
    const answer = await sameSubmit(formId, body);
    return sendText(res, answer.status, answer.json);
  }
  if (typeof body?.data !== 'object' || body.data === null) {
    return send(res, 400, {
      error: { code: 'invalid_request', message: 'data must be an object', details: [] },
    });
  }
  const now = new Date();
  const stored = await store({
    id: uuidv7(now.getTime()),
    workspaceId,
    formId,
    formVersion: 1,
    data: body.data as Record<string, unknown>,
    completed: body.completed !== false,
    metadata: (body.metadata as Record<string, unknown> | undefined) ?? {},
    now,
    resumeTokenHash: null,
    idempotencyKey: null,
    idempotencyHash: null,
  });
  if (!stored)
    return send(res, 404, { error: { code: 'not_found', message: 'no such form', details: [] } });
  send(res, 201, stored);
}

const server = createServer((req, res) => {
  const match = req.method === 'POST' ? ROUTE.exec(req.url ?? '') : null;
  if (match) {
    submit(req, res, match[1]!).catch(() => {
      if (!res.headersSent)
        send(res, 500, { error: { code: 'internal', message: 'internal error', details: [] } });
    });
  } else if (req.method === 'GET' && req.url === '/healthz') {
    send(res, 200, { status: 'ok' });
  } else {
    send(res, 404, { error: { code: 'not_found', message: 'not found', details: [] } });
  }
});

server.listen(Number(required('PORT')), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
});
