import type { Queryable } from '../db/index.ts';
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

/** A page row: the response and its keyset position. */
export type ExportPageRow = ExportRow & { cursor_at: string };

function conditions(s: ExportSelection, params: unknown[]): string {
  params.push(s.formId, s.workspaceId);
  const where = ['r.form_id = $1', 'r.workspace_id = $2', 'NOT r.deleted'];
  if (s.since) where.push(`r.submitted_at >= $${params.push(s.since)}`);
  if (s.until) where.push(`r.submitted_at <= $${params.push(s.until)}`);
  if (s.where) where.push(`(${s.where(params)})`);
  return where.join(' AND ');
}

/**
 * One page of live responses, newest first, after `cursor` (keyset on `(submitted_at, id)`,
 * served by `responses_live_idx`). The cursor compares the timestamp as text cast back to
 * timestamptz so that microseconds survive the round trip through JavaScript.
 */
export async function selectExportPage(
  db: Queryable,
  s: ExportSelection,
  cursor: ExportCursor | undefined,
  limit: number,
): Promise<ExportPageRow[]> {
  const params: unknown[] = [];
  let where = conditions(s, params);
  if (cursor) {
    where += ` AND (r.submitted_at, r.id) < ($${params.push(cursor.at)}::timestamptz, $${params.push(cursor.id)}::uuid)`;
  }
  const { rows } = await db.query<ExportPageRow>(
    `SELECT r.id, r.workspace_id, r.form_id, r.data, r.completed, r.metadata, r.submitted_at, r.updated_at,
       NULL::text AS resume_token_hash, NULL::text AS idempotency_hash, r.submitted_at::text AS cursor_at
     FROM responses r WHERE ${where}
     ORDER BY r.submitted_at DESC, r.id DESC LIMIT $${params.push(limit)}`,
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

export type ExportJobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ExportJobRow {
  id: string;
  workspace_id: string;
  form_id: string;
  format: string;
  params: Record<string, unknown>;
  status: ExportJobStatus;
  progress: number;
  total: number | null;
  file_path: string | null;
  file_name: string | null;
  size: string | number | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const JOB_COLUMNS =
  'id, workspace_id, form_id, format, params, status, progress, total, file_path, file_name, size, error, created_at, finished_at';

export async function insertExportJob(
  db: Queryable,
  job: { id: string; workspaceId: string; formId: string; format: string; params: Record<string, unknown>; fileName: string },
): Promise<ExportJobRow> {
  const { rows } = await db.query<ExportJobRow>(
    `INSERT INTO export_jobs (id, workspace_id, form_id, format, params, status, file_name)
     VALUES ($1, $2, $3, $4, $5::jsonb, 'queued', $6) RETURNING ${JOB_COLUMNS}`,
    [job.id, job.workspaceId, job.formId, job.format, JSON.stringify(job.params), job.fileName],
  );
  return rows[0]!;
}

export async function findExportJob(db: Queryable, workspaceId: string, id: string): Promise<ExportJobRow | undefined> {
  const { rows } = await db.query<ExportJobRow>(
    `SELECT ${JOB_COLUMNS} FROM export_jobs WHERE id = $1 AND workspace_id = $2`,
    [id, workspaceId],
  );
  return rows[0];
}

export async function markExportRunning(db: Queryable, id: string, total: number, filePath: string): Promise<void> {
  await db.query(`UPDATE export_jobs SET status = 'running', total = $2, file_path = $3 WHERE id = $1`, [id, total, filePath]);
}

export async function setExportProgress(db: Queryable, id: string, progress: number): Promise<void> {
  await db.query('UPDATE export_jobs SET progress = $2 WHERE id = $1', [id, progress]);
}

export async function markExportSucceeded(db: Queryable, id: string, size: number): Promise<void> {
  await db.query(
    `UPDATE export_jobs SET status = 'succeeded', progress = 100, size = $2, finished_at = now() WHERE id = $1`,
    [id, size],
  );
}

export async function markExportFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(`UPDATE export_jobs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [id, error]);
}
