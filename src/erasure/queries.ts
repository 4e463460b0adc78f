import type { Queryable } from '../db/index.ts';
import type { ErasedCounts } from './erase.ts';
import type { MatchForm } from './match.ts';

export type ErasureStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ErasureRow {
  id: string;
  workspace_id: string;
  form_id: string | null;
  match: unknown;
  status: ErasureStatus;
  counts: Partial<ErasedCounts>;
  form_cursor: string | null;
  forms: string[];
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const COLUMNS =
  'id, workspace_id, form_id, match, status, counts, form_cursor, forms, error, created_at, finished_at';

/** A job whose worker has not said it is alive for this long is taken over by another. */
export const STALE_ERASURE_MS = 60_000;

export async function insertErasure(
  db: Queryable,
  erasure: { id: string; workspaceId: string; formId: string | null; match: unknown },
): Promise<ErasureRow> {
  const { rows } = await db.query<ErasureRow>(
    `INSERT INTO erasures (id, workspace_id, form_id, match, status) VALUES ($1, $2, $3, $4, 'queued')
     RETURNING ${COLUMNS}`,
    [erasure.id, erasure.workspaceId, erasure.formId, JSON.stringify(erasure.match)],
  );
  return rows[0]!;
}

export async function findErasure(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ErasureRow | undefined> {
  const { rows } = await db.query<ErasureRow>(
    `SELECT ${COLUMNS} FROM erasures WHERE id = $1 AND workspace_id = $2`,
    [id, workspaceId],
  );
  return rows[0];
}

/** Takes the oldest queued job, or a running one whose worker went silent; marks it running. */
export async function claimErasure(db: Queryable): Promise<ErasureRow | undefined> {
  const { rows } = await db.query<ErasureRow>(
    `UPDATE erasures e SET status = 'running', heartbeat_at = now(), started_at = coalesce(started_at, now())
      WHERE e.id = (
        SELECT id FROM erasures
         WHERE status = 'queued'
            OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $1))
         ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [STALE_ERASURE_MS / 1000],
  );
  return rows[0];
}

/** Locks a running job for one batch; undefined when it is no longer running. */
export async function lockRunning(tx: Queryable, id: string): Promise<ErasureRow | undefined> {
  const { rows } = await tx.query<ErasureRow>(
    `SELECT ${COLUMNS} FROM erasures WHERE id = $1 AND status = 'running' FOR UPDATE`,
    [id],
  );
  return rows[0];
}

/** The forms a job works on, from `cursor` on, in id order (deleted forms too: their responses hold data). */
export async function formsFrom(
  db: Queryable,
  workspaceId: string,
  formId: string | null,
  cursor: string | null,
): Promise<MatchForm[]> {
  const { rows } = await db.query<MatchForm>(
    `SELECT id, fields, calculated_fields FROM forms
      WHERE workspace_id = $1 AND ($2::uuid IS NULL OR id = $2::uuid) AND ($3::uuid IS NULL OR id >= $3::uuid)
      ORDER BY id`,
    [workspaceId, formId, cursor],
  );
  return rows;
}

/** Records a committed batch: its counts, the form it is at, the forms that lost responses. */
export async function recordProgress(
  tx: Queryable,
  id: string,
  progress: { counts: ErasedCounts; cursor: string | null; forms: readonly string[] },
): Promise<void> {
  await tx.query(
    `UPDATE erasures SET counts = $2, form_cursor = $3, forms = $4::uuid[], heartbeat_at = now() WHERE id = $1`,
    [id, JSON.stringify(progress.counts), progress.cursor, progress.forms],
  );
}

export async function finishErasure(
  tx: Queryable,
  id: string,
  outcome: { status: 'succeeded' | 'failed'; counts?: ErasedCounts; error?: string },
): Promise<void> {
  await tx.query(
    // The match may hold the very data erased (an e-mail address): once the job has ended
    // only its top-level paths stay, each value replaced, so the record keeps what was
    // matched on, never the values.
    `UPDATE erasures SET status = $2, counts = coalesce($3::jsonb, counts), error = $4, finished_at = now(),
            match = coalesce((SELECT jsonb_object_agg(key, '"[erased]"'::jsonb) FROM jsonb_each(match)), '{}')
      WHERE id = $1`,
    [
      id,
      outcome.status,
      outcome.counts ? JSON.stringify(outcome.counts) : null,
      outcome.error ?? null,
    ],
  );
}

/** Gives a job back to the queue (the worker is stopping between two batches). */
export async function requeueErasure(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE erasures SET status = 'queued' WHERE id = $1 AND status = 'running'`, [
    id,
  ]);
}
