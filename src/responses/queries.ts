import type { Queryable } from '../db/index.ts';

export interface ResponseRow {
  id: string;
  workspace_id: string;
  form_id: string;
  data: Record<string, unknown>;
  completed: boolean;
  metadata: Record<string, unknown>;
  submitted_at: Date;
  updated_at: Date;
  resume_token_hash: string | null;
  idempotency_hash: string | null;
}

const COLUMNS =
  'r.id, r.workspace_id, r.form_id, r.data, r.completed, r.metadata, r.submitted_at, r.updated_at, r.resume_token_hash, r.idempotency_hash';

export interface NewResponse {
  id: string;
  workspaceId: string;
  formId: string;
  formVersion: number;
  data: Record<string, unknown>;
  completed: boolean;
  metadata: Record<string, unknown>;
  now: Date;
  resumeTokenHash: string | null;
  idempotencyKey: string | null;
  idempotencyHash: string | null;
  /** With an Idempotency-Key: the exact JSON body of the first answer, for replays. */
  idempotencyAnswer?: string | null;
}

/** The row a new response will be, for its event's snapshot before it is written. */
export function asRow(r: NewResponse): ResponseRow {
  return {
    id: r.id,
    workspace_id: r.workspaceId,
    form_id: r.formId,
    data: r.data,
    completed: r.completed,
    metadata: r.metadata,
    submitted_at: r.now,
    updated_at: r.now,
    resume_token_hash: r.resumeTokenHash,
    idempotency_hash: r.idempotencyHash,
  };
}

/**
 * Inserts a response and its outbox event in ONE statement (the event row is written only
 * when the response row is), so the transactional outbox costs no extra round trips. The
 * event's payload comes as JSON text (serialised once with the answer: `prepareSubmission`).
 * Nothing of the row is read back: the caller already holds every value in it. False when
 * the Idempotency-Key was already used on this form (nothing was written).
 */
export async function insertResponseWithEvent(
  db: Queryable,
  r: NewResponse,
  event: {
    id: string;
    type: string;
    payloadJson: string;
    traceContext?: string | null;
  },
): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `WITH r AS (
       INSERT INTO responses AS r (id, workspace_id, form_id, form_version, data, completed, metadata,
         submitted_at, updated_at, resume_token_hash, idempotency_key, idempotency_hash, idempotency_answer)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $8, $9, $10, $11, $15)
       ON CONFLICT (form_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING r.id, r.workspace_id, r.form_id
     ), e AS (
       INSERT INTO outbox (id, workspace_id, form_id, event_type, payload, created_at, trace_context)
       SELECT $12, r.workspace_id, r.form_id, $13, $14::jsonb, $8, $16::jsonb FROM r
     )
     SELECT r.id FROM r`,
    [
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
      event.id,
      event.type,
      event.payloadJson,
      r.idempotencyAnswer ?? null,
      event.traceContext ?? null,
    ],
    // Every public submission runs it: parsed and planned once per pooled connection.
    { name: 'formhub_insert_response_with_event' },
  );
  return rows.length > 0;
}

/** The response that holds an Idempotency-Key, with the first answer stored for it (if any). */
export async function findByIdempotencyKey(
  db: Queryable,
  formId: string,
  key: string,
): Promise<(ResponseRow & { idempotency_answer: string | null }) | undefined> {
  const { rows } = await db.query<ResponseRow & { idempotency_answer: string | null }>(
    `SELECT ${COLUMNS}, r.idempotency_answer FROM responses r WHERE r.form_id = $1 AND r.idempotency_key = $2`,
    [formId, key],
  );
  return rows[0];
}

/**
 * A live response whose form is live. With a workspace id, only that workspace's; with
 * `forUpdate`, the row is locked until the transaction ends.
 */
export async function findResponse(
  db: Queryable,
  id: string,
  workspaceId: string | undefined,
  forUpdate = false,
): Promise<ResponseRow | undefined> {
  const { rows } = await db.query<ResponseRow>(
    `SELECT ${COLUMNS} FROM responses r JOIN forms f ON f.id = r.form_id AND f.deleted_at IS NULL
     WHERE r.id = $1 AND NOT r.deleted AND ($2::uuid IS NULL OR r.workspace_id = $2::uuid)
     ${forUpdate ? 'FOR UPDATE OF r' : ''}`,
    [id, workspaceId ?? null],
  );
  return rows[0];
}

export interface ResponseChanges {
  data: Record<string, unknown>;
  completed: boolean;
  metadata: Record<string, unknown>;
  formVersion: number;
  submittedAt: Date;
  now: Date;
  resumeTokenHash: string | null;
}

export async function updateResponse(
  db: Queryable,
  id: string,
  c: ResponseChanges,
): Promise<ResponseRow> {
  const { rows } = await db.query<ResponseRow>(
    `UPDATE responses AS r SET data = $2::jsonb, completed = $3, metadata = $4::jsonb, form_version = $5,
       submitted_at = $6, updated_at = $7, resume_token_hash = $8
     WHERE r.id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      JSON.stringify(c.data),
      c.completed,
      JSON.stringify(c.metadata),
      c.formVersion,
      c.submittedAt,
      c.now,
      c.resumeTokenHash,
    ],
  );
  return rows[0]!;
}

export async function setResumeTokenHash(db: Queryable, id: string, hash: string): Promise<void> {
  await db.query('UPDATE responses SET resume_token_hash = $2 WHERE id = $1', [id, hash]);
}

export async function softDeleteResponse(
  db: Queryable,
  id: string,
  now: Date,
): Promise<ResponseRow | undefined> {
  const { rows } = await db.query<ResponseRow>(
    `UPDATE responses AS r SET deleted = true, deleted_at = $2, updated_at = $2, resume_token_hash = NULL
     WHERE r.id = $1 AND NOT r.deleted RETURNING ${COLUMNS}`,
    [id, now],
  );
  return rows[0];
}

export interface ListFilter {
  formId: string;
  limit: number;
  since?: Date | undefined;
  until?: Date | undefined;
  completed?: boolean | undefined;
  /** Keyset: rows strictly older than this (submitted_at, id). */
  before?: { submittedAt: Date; id: string } | undefined;
  /** A compiled DSL filter over `r`: appends its values to `params`, answers the SQL condition. */
  where?: ((params: unknown[]) => string) | undefined;
}

/** Live responses of a form, newest first, by keyset pagination on (submitted_at, id). */
export async function listResponses(db: Queryable, f: ListFilter): Promise<ResponseRow[]> {
  const params: unknown[] = [f.formId];
  const where = ['r.form_id = $1', 'NOT r.deleted'];
  const add = (sql: (n: number) => string, ...values: unknown[]) => {
    where.push(sql(params.length + 1));
    params.push(...values);
  };
  if (f.since) add((n) => `r.submitted_at >= $${n}`, f.since);
  if (f.until) add((n) => `r.submitted_at <= $${n}`, f.until);
  if (f.completed !== undefined) add((n) => `r.completed = $${n}`, f.completed);
  if (f.before)
    add(
      (n) => `(r.submitted_at, r.id) < ($${n}, $${n + 1}::uuid)`,
      f.before.submittedAt,
      f.before.id,
    );
  if (f.where) where.push(`(${f.where(params)})`);
  params.push(f.limit);
  const { rows } = await db.query<ResponseRow>(
    `SELECT ${COLUMNS} FROM responses r WHERE ${where.join(' AND ')}
     ORDER BY r.submitted_at DESC, r.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

/** Column arrays for one multi-row insert of imported responses. */
export interface ImportBatch {
  ids: string[];
  data: string[];
  completed: boolean[];
  submittedAt: string[];
  metadata: string[];
}

/** Inserts a batch of imported responses with one statement (unnest of column arrays). */
export async function insertImportBatch(
  db: Queryable,
  workspaceId: string,
  formId: string,
  formVersion: number,
  batch: ImportBatch,
): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, metadata, submitted_at,
       updated_at, source)
     SELECT u.id, $1, $2, $3, u.data, u.completed, u.metadata, u.submitted_at, u.submitted_at, 'import'
     FROM unnest($4::uuid[], $5::jsonb[], $6::boolean[], $7::timestamptz[], $8::jsonb[])
       AS u(id, data, completed, submitted_at, metadata)`,
    [
      workspaceId,
      formId,
      formVersion,
      batch.ids,
      batch.data,
      batch.completed,
      batch.submittedAt,
      batch.metadata,
    ],
  );
  return rowCount;
}

/**
 * Takes one of the workspace's `slots` import slots until the transaction ends (commit,
 * rollback, or the connection dropping with a crashed process): PostgreSQL's
 * transaction-level advisory locks, so the count holds across API processes and is
 * released on every path without bookkeeping. False when every slot is taken.
 */
export async function tryImportSlot(
  tx: Queryable,
  workspaceId: string,
  slots: number,
): Promise<boolean> {
  for (let slot = 0; slot < slots; slot++) {
    const { rows } = await tx.query<{ taken: boolean }>(
      "SELECT pg_try_advisory_xact_lock(hashtext('formhub.import:' || $1::text), $2::int) AS taken",
      [workspaceId, slot],
    );
    if (rows[0]?.taken) return true;
  }
  return false;
}
