/**
 * Export job limits (DESIGN.md section 3a): a heartbeat so that a job of a crashed process
 * stops holding one of its workspace's slots, an expiry time for the file (EXPORT_TTL), and
 * the `expired` status for a job whose file was deleted.
 */
export const statements = [
  `ALTER TABLE export_jobs ADD COLUMN heartbeat_at timestamptz, ADD COLUMN expires_at timestamptz`,
  `UPDATE export_jobs SET heartbeat_at = coalesce(finished_at, created_at)`,
  `ALTER TABLE export_jobs DROP CONSTRAINT export_jobs_status_check`,
  `ALTER TABLE export_jobs ADD CONSTRAINT export_jobs_status_check
     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'expired'))`,
  `CREATE INDEX export_jobs_live_idx ON export_jobs (workspace_id) WHERE status IN ('queued', 'running')`,
  `CREATE INDEX export_jobs_expiry_idx ON export_jobs (expires_at) WHERE status = 'succeeded'`,
];
