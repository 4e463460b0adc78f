import type { Queryable } from '../db/index.ts';

/**
 * SQL of export job files: what the sweep expires or fails (their files, local or in the
 * artifact store) and the import of files made before the store (migration 18).
 */

/** What a sweep found to delete: local files (jobs made before artifacts) and artifacts. */
export interface SweptFiles {
  paths: string[];
  artifactIds: string[];
}

function sweptFiles(rows: { file_path: string | null; artifact_id: string | null }[]): SweptFiles {
  return {
    paths: rows.flatMap((r) => (r.file_path ? [r.file_path] : [])),
    artifactIds: rows.flatMap((r) => (r.artifact_id ? [r.artifact_id] : [])),
  };
}

/**
 * Marks up to `limit` jobs whose files are past `expires_at` as expired (jobs finished
 * before expiry times were recorded expire `ttlMs` after they finished); answers their files.
 */
export async function expireExportJobs(
  db: Queryable,
  ttlMs: number,
  limit = 500,
): Promise<SweptFiles> {
  const { rows } = await db.query<{ file_path: string | null; artifact_id: string | null }>(
    `WITH due AS (
       SELECT id, file_path, artifact_id FROM export_jobs
       WHERE status = 'succeeded' AND coalesce(expires_at, finished_at + make_interval(secs => $2)) <= now()
       LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE export_jobs j SET status = 'expired', file_path = NULL, artifact_id = NULL
     FROM due WHERE j.id = due.id
     RETURNING due.file_path, due.artifact_id`,
    [limit, ttlMs / 1000],
  );
  return sweptFiles(rows);
}

/**
 * Fails the jobs whose process stopped heartbeating (it crashed or was killed): they no
 * longer hold a slot, and say why. Answers their (partial) files, to delete.
 */
export async function failStaleExportJobs(db: Queryable, staleMs: number): Promise<SweptFiles> {
  const { rows } = await db.query<{ file_path: string | null; artifact_id: string | null }>(
    `WITH stale AS (
       SELECT id, file_path, artifact_id FROM export_jobs
       WHERE status IN ('queued', 'running') AND heartbeat_at <= now() - make_interval(secs => $1)
       FOR UPDATE SKIP LOCKED
     )
     UPDATE export_jobs j SET status = 'failed', error = 'the process running the export stopped', finished_at = now(),
       file_path = NULL, artifact_id = NULL
     FROM stale WHERE j.id = stale.id
     RETURNING stale.file_path, stale.artifact_id`,
    [staleMs / 1000],
  );
  return sweptFiles(rows);
}

/** A succeeded job made before artifacts, whose file is on some host's disk. */
export interface LocalFileJob {
  id: string;
  workspace_id: string;
  file_path: string;
  expires_at: Date | null;
  finished_at: Date | null;
}

/** Up to `limit` succeeded jobs after `after` (in id order) whose file is still on a host's disk. */
export async function selectLocalFileJobs(
  db: Queryable,
  after: string | undefined,
  limit: number,
): Promise<LocalFileJob[]> {
  const { rows } = await db.query<LocalFileJob>(
    `SELECT id, workspace_id, file_path, expires_at, finished_at FROM export_jobs
      WHERE status = 'succeeded' AND artifact_id IS NULL AND file_path IS NOT NULL
        AND ($1::uuid IS NULL OR id > $1::uuid)
      ORDER BY id LIMIT $2`,
    [after ?? null, limit],
  );
  return rows;
}

/** Points a job at the artifact its local file was copied into; false when it changed meanwhile. */
export async function attachImportedArtifact(
  tx: Queryable,
  id: string,
  artifactId: string,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE export_jobs SET artifact_id = $2, file_path = NULL
      WHERE id = $1 AND status = 'succeeded' AND artifact_id IS NULL AND file_path IS NOT NULL`,
    [id, artifactId],
  );
  return rowCount > 0;
}
