import { rm } from 'node:fs/promises';
import { deleteArtifacts } from '../artifacts/index.ts';
import type { Queryable } from '../db/index.ts';

/** Responses hard-deleted per transaction: short transactions, short locks. */
export const ERASURE_BATCH = 500;

/** What an erasure deleted, per kind (DESIGN.md section 4b; docs/api.md "Erasure"). */
export interface ErasedCounts {
  responses: number;
  events: number;
  deliveries: number;
  attempts: number;
  idempotency_records: number;
  export_files: number;
}

export const NO_COUNTS: ErasedCounts = {
  responses: 0,
  events: 0,
  deliveries: 0,
  attempts: 0,
  idempotency_records: 0,
  export_files: 0,
};

export function addCounts(a: ErasedCounts, b: Partial<ErasedCounts>): ErasedCounts {
  const out = { ...a };
  for (const kind of Object.keys(NO_COUNTS) as (keyof ErasedCounts)[])
    out[kind] = (a[kind] ?? 0) + (b[kind] ?? 0);
  return out;
}

/** Which responses: one form of a workspace, and a SQL condition over `responses r`. */
export interface ErasureSelection {
  workspaceId: string;
  formId: string;
  /** Appends its values to `params` and answers the condition (compileFilter's contract). */
  where: (params: unknown[]) => string;
}

/**
 * Hard-deletes up to `batch` responses of the selection and all that holds their data, in
 * the caller's transaction: the outbox events that carry them, the deliveries that carry
 * them (found by their payloads' response id) with their payloads and attempt logs (no
 * foreign key: migrations 0005 and 0023) and schedule rows (which cascade), and their
 * idempotency records (columns of the response row: a replay of the key then makes a new
 * response). The responses are locked first (FOR UPDATE: an edit in
 * flight finishes before, or finds nothing after); the events are deleted before the
 * deliveries, so that a relay that was fanning them out has committed its deliveries,
 * which the next statement sees. Soft-deleted responses match too: they hold data.
 */
export async function eraseBatch(
  tx: Queryable,
  selection: ErasureSelection,
  batch = ERASURE_BATCH,
): Promise<ErasedCounts> {
  const params: unknown[] = [selection.workspaceId, selection.formId, batch];
  const condition = selection.where(params);
  const { rows } = await tx.query<{ id: string; keyed: boolean }>(
    `SELECT r.id, r.idempotency_key IS NOT NULL AS keyed FROM responses r
      WHERE r.workspace_id = $1 AND r.form_id = $2 AND (${condition})
      ORDER BY r.id LIMIT $3 FOR UPDATE OF r`,
    params,
  );
  if (rows.length === 0) return NO_COUNTS;
  const ids = rows.map((r) => r.id);
  const events = await tx.query(
    `DELETE FROM outbox WHERE (payload -> 'response' ->> 'id') = ANY($2::text[]) AND workspace_id = $1`,
    [selection.workspaceId, ids],
  );
  const { rows: delivered } = await tx.query<{ deliveries: string; attempts: string }>(
    `WITH doomed AS (
       SELECT d.id FROM delivery_payloads p JOIN deliveries d ON d.id = p.delivery_id
        WHERE (p.payload -> 'response' ->> 'id') = ANY($2::text[]) AND d.workspace_id = $1
        FOR UPDATE OF d
     ), attempts AS (
       DELETE FROM delivery_attempts a USING doomed WHERE a.delivery_id = doomed.id RETURNING 1
     ), payloads AS (
       DELETE FROM delivery_payloads p USING doomed WHERE p.delivery_id = doomed.id
     ), gone AS (
       DELETE FROM deliveries d USING doomed WHERE d.id = doomed.id RETURNING 1
     )
     SELECT (SELECT count(*) FROM gone) AS deliveries, (SELECT count(*) FROM attempts) AS attempts`,
    [selection.workspaceId, ids],
  );
  const responses = await tx.query('DELETE FROM responses WHERE id = ANY($1::uuid[])', [ids]);
  return {
    responses: responses.rowCount ?? 0,
    events: events.rowCount ?? 0,
    deliveries: Number(delivered[0]?.deliveries ?? 0),
    attempts: Number(delivered[0]?.attempts ?? 0),
    idempotency_records: rows.filter((r) => r.keyed).length,
    export_files: 0,
  };
}

/**
 * Deletes the finished export jobs of `formIds` (succeeded, failed or expired) and their
 * files: any file may hold any response of its form, so every one goes. The files are
 * artifacts in PostgreSQL (src/artifacts), deleted with their chunks in this transaction,
 * whichever host made them. Jobs still queued or running are failed, and the chunks they
 * have written so far deleted: their writer then stops at its next chunk and never seals
 * the file. Files of jobs made before the artifact store (migration 18) on this host's disk
 * are deleted too; such a file on another host's disk is no longer served (its job is
 * gone) and that host's sweep deletes it after EXPORT_TTL. Answers how many finished
 * files were deleted.
 */
export async function deleteExportFiles(
  tx: Queryable,
  formIds: readonly string[],
): Promise<number> {
  if (formIds.length === 0) return 0;
  const { rows } = await tx.query<{ file_path: string | null; artifact_id: string | null }>(
    `DELETE FROM export_jobs WHERE form_id = ANY($1::uuid[]) AND status IN ('succeeded', 'failed', 'expired')
     RETURNING file_path, artifact_id`,
    [formIds],
  );
  const { rows: cancelled } = await tx.query<{ artifact_id: string | null }>(
    `UPDATE export_jobs SET status = 'failed', finished_at = now(), file_path = NULL,
       error = 'cancelled: an erasure deleted responses of this form; export again'
      WHERE form_id = ANY($1::uuid[]) AND status IN ('queued', 'running')
      RETURNING artifact_id`,
    [formIds],
  );
  let deleted = await deleteArtifacts(
    tx,
    rows.flatMap((r) => (r.artifact_id ? [r.artifact_id] : [])),
  );
  await deleteArtifacts(
    tx,
    cancelled.flatMap((r) => (r.artifact_id ? [r.artifact_id] : [])),
  );
  for (const { file_path: path } of rows) {
    if (!path) continue;
    const gone = await rm(path).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    if (gone) deleted += 1;
  }
  return deleted;
}
