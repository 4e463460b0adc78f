import type { Database, Queryable } from '../db/index.ts';
import type { ExportRow } from './cell-values.ts';

/** Which responses an export holds: a form's live ones, optionally bounded and filtered. */
export interface ExportSelection {
  workspaceId: string;
  formId: string;
  since?: Date | undefined;
  until?: Date | undefined;
  /** A compiled DSL filter over `r`: appends its values to `params`, answers the SQL condition. */
  where?: ((params: unknown[]) => string) | undefined;
}

/** The keyset position after the last row of a page: its exact timestamp (as text, microseconds kept) and id. */
export interface ExportCursor {
  at: string;
  id: string;
}

function conditions(s: ExportSelection, params: unknown[]): string {
  params.push(s.formId, s.workspaceId);
  const where = ['r.form_id = $1', 'r.workspace_id = $2', 'NOT r.deleted'];
  if (s.since) where.push(`r.submitted_at >= $${params.push(s.since)}`);
  if (s.until) where.push(`r.submitted_at <= $${params.push(s.until)}`);
  if (s.where) where.push(`(${s.where(params)})`);
  return where.join(' AND ');
}

/** A page row: the response, its keyset position and the page's running size through it. */
export type ExportPageRow = ExportRow & { cursor_at: string; bytes_through: string | number };

/**
 * One page of live responses, newest first, after `cursor` (keyset on `(submitted_at, id)`,
 * served by `responses_live_idx`), of at most `limit` rows and about `budget` bytes: a row
 * is sent while the rows before it on the page (their `data` and `metadata` as text) total
 * less than `budget`, so a page holds at least one row and at most `budget` plus one row.
 * Rows are sized only after the LIMIT (when the planner sorts instead of walking the index,
 * sizing in the same select list would print every matching row's data for every page:
 * 330 ms a page at 2,000 rows of 40 KB). The cursor compares the timestamp as text cast back
 * to timestamptz so that microseconds survive the round trip through JavaScript.
 */
export async function selectExportPage(
  db: Queryable,
  s: ExportSelection,
  cursor: ExportCursor | undefined,
  limit: number,
  budget: number,
): Promise<ExportPageRow[]> {
  const params: unknown[] = [];
  let where = conditions(s, params);
  if (cursor) {
    where += ` AND (r.submitted_at, r.id) < ($${params.push(cursor.at)}::timestamptz, $${params.push(cursor.id)}::uuid)`;
  }
  const { rows } = await db.query<ExportPageRow>(
    `SELECT p.id, p.workspace_id, p.form_id, r.data, r.completed, r.metadata, p.submitted_at, r.updated_at,
       NULL::text AS resume_token_hash, NULL::text AS idempotency_hash, p.submitted_at::text AS cursor_at, p.bytes_through
     FROM (
       SELECT k.*, sum(k.bytes) OVER (ORDER BY k.submitted_at DESC, k.id DESC ROWS UNBOUNDED PRECEDING) AS bytes_through
       FROM (
         SELECT l.id, l.workspace_id, l.form_id, l.submitted_at,
           octet_length(s.data::text) + coalesce(octet_length(s.metadata::text), 0) AS bytes
         FROM (
           SELECT r.id, r.workspace_id, r.form_id, r.submitted_at
           FROM responses r WHERE ${where}
           ORDER BY r.submitted_at DESC, r.id DESC LIMIT $${params.push(limit)}
         ) l JOIN responses s ON s.id = l.id
       ) k
     ) p JOIN responses r ON r.id = p.id
     WHERE p.bytes_through - p.bytes < $${params.push(budget)}
     ORDER BY p.submitted_at DESC, p.id DESC`,
    params,
  );
  return rows;
}

/** How many responses an export will hold (for its progress). */
export async function countExportRows(db: Queryable, s: ExportSelection): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await db.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM responses r WHERE ${conditions(s, params)}`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}

export type ExportJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired';

export interface ExportJobRow {
  id: string;
  workspace_id: string;
  form_id: string;
  format: string;
  params: Record<string, unknown>;
  status: ExportJobStatus;
  progress: number;
  total: number | null;
  /** A file on the disk of the host that ran the job: jobs made before artifacts (migration 18). */
  file_path: string | null;
  /** The job's file in the artifact store (src/artifacts), once it runs. */
  artifact_id: string | null;
  file_name: string | null;
  size: string | number | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
  expires_at: Date | null;
}

const JOB_COLUMNS =
  'id, workspace_id, form_id, format, params, status, progress, total, file_path, artifact_id, file_name, size, error, created_at, finished_at, expires_at';

/** Any constant shared by every formhub process: with the workspace, it serialises slot checks. */
const EXPORT_SLOT_LOCK = 7_240_208;

/**
 * Records a queued job if the workspace has fewer than `max` live jobs (queued or running
 * with a heartbeat newer than `staleMs`), under a transaction-scoped advisory lock on the
 * workspace so that two processes cannot both take the last slot. Answers undefined when
 * every slot is taken.
 */
export async function insertExportJobInSlot(
  db: Database,
  job: {
    id: string;
    workspaceId: string;
    formId: string;
    format: string;
    params: Record<string, unknown>;
    fileName: string;
  },
  max: number,
  staleMs: number,
): Promise<ExportJobRow | undefined> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      EXPORT_SLOT_LOCK,
      job.workspaceId,
    ]);
    const { rows: live } = await tx.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM export_jobs
       WHERE workspace_id = $1 AND status IN ('queued', 'running') AND heartbeat_at > now() - make_interval(secs => $2)`,
      [job.workspaceId, staleMs / 1000],
    );
    if (Number(live[0]?.n ?? 0) >= max) return undefined;
    const { rows } = await tx.query<ExportJobRow>(
      `INSERT INTO export_jobs (id, workspace_id, form_id, format, params, status, file_name, heartbeat_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, 'queued', $6, now()) RETURNING ${JOB_COLUMNS}`,
      [job.id, job.workspaceId, job.formId, job.format, JSON.stringify(job.params), job.fileName],
    );
    return rows[0]!;
  });
}

export async function findExportJob(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ExportJobRow | undefined> {
  const { rows } = await db.query<ExportJobRow>(
    `SELECT ${JOB_COLUMNS} FROM export_jobs WHERE id = $1 AND workspace_id = $2`,
    [id, workspaceId],
  );
  return rows[0];
}

export async function markExportRunning(
  db: Queryable,
  id: string,
  total: number,
  artifactId: string,
): Promise<boolean> {
  // Only a queued job starts: one failed meanwhile (an erasure of its form) stays failed.
  const { rowCount } = await db.query(
    `UPDATE export_jobs SET status = 'running', total = $2, artifact_id = $3, heartbeat_at = now()
      WHERE id = $1 AND status = 'queued'`,
    [id, total, artifactId],
  );
  return rowCount > 0;
}

/** Saves progress; it is also the job's heartbeat. */
export async function setExportProgress(
  db: Queryable,
  id: string,
  progress: number,
): Promise<void> {
  await db.query('UPDATE export_jobs SET progress = $2, heartbeat_at = now() WHERE id = $1', [
    id,
    progress,
  ]);
}

/** Says the jobs (of this process) are alive, between pages too (a slow PDF page, a slow disk). */
export async function touchExportJobs(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE export_jobs SET heartbeat_at = now() WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')`,
    [ids],
  );
}

/**
 * The job's file is complete: it may be downloaded until `ttlMs` from now. Run in the
 * transaction that seals its artifact (the same `now()`: both expire at the same instant).
 * False when the job is no longer running (an erasure of its form failed it, or the sweep
 * found it silent): the artifact is then discarded, as it may hold erased responses.
 */
export async function markExportSucceeded(
  db: Queryable,
  id: string,
  size: number,
  ttlMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE export_jobs SET status = 'succeeded', progress = 100, size = $2, finished_at = now(),
       expires_at = now() + make_interval(secs => $3) WHERE id = $1 AND status = 'running'`,
    [id, size, ttlMs / 1000],
  );
  return rowCount > 0;
}

/** Fails a queued or running job; one failed before (by an erasure, by the sweep) keeps its reason. */
export async function markExportFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE export_jobs SET status = 'failed', error = $2, finished_at = now(), file_path = NULL
      WHERE id = $1 AND status IN ('queued', 'running')`,
    [id, error],
  );
}
