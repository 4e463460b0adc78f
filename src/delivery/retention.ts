import type { Logger } from 'pino';
import { startLoop } from '../common/index.ts';
import type { Database } from '../db/index.ts';

/** Deliveries deleted per transaction: short transactions, short locks. */
export const RETENTION_BATCH = 500;
/** How often the worker looks for deliveries past their workspace's retention. */
export const RETENTION_IDLE_MS = 60 * 60 * 1000;

/**
 * Deletes one batch of each workspace's deliveries older than its
 * `retention_deliveries_days`, with their attempt logs (which have no foreign key to
 * cascade through: see migration 0005) in the same statement; the schedule row of a delivery
 * still waiting for an attempt means it is not finished, and it is kept until it is.
 * Answers how many deliveries went. `now` is for tests.
 */
export async function deleteExpiredDeliveries(
  db: Database,
  now = new Date(),
  batch = RETENTION_BATCH,
): Promise<number> {
  const { rows: workspaces } = await db.query<{ id: string; days: number }>(
    `SELECT id, retention_deliveries_days AS days FROM workspaces
      WHERE retention_deliveries_days IS NOT NULL`,
  );
  let deleted = 0;
  for (const { id, days } of workspaces) {
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const { rows } = await db.query<{ n: string }>(
      `WITH doomed AS (
         SELECT d.id FROM deliveries d
          WHERE d.integration_id IN (SELECT i.id FROM integrations i WHERE i.workspace_id = $1)
            AND d.created_at < $2
            AND NOT EXISTS (SELECT 1 FROM delivery_schedule s WHERE s.delivery_id = d.id)
          LIMIT $3
          FOR UPDATE OF d SKIP LOCKED
       ), attempts AS (
         DELETE FROM delivery_attempts a USING doomed WHERE a.delivery_id = doomed.id
       ), gone AS (
         DELETE FROM deliveries d USING doomed WHERE d.id = doomed.id RETURNING 1
       )
       SELECT count(*) AS n FROM gone`,
      [id, cutoff, batch],
    );
    deleted += Number(rows[0]?.n ?? 0);
  }
  return deleted;
}

/** The worker's retention loop: batch after batch while there is work, then hourly. */
export function startDeliveryRetention(db: Database, logger: Logger): { stop(): Promise<void> } {
  return startLoop(
    'delivery retention',
    async () => {
      const deleted = await deleteExpiredDeliveries(db);
      if (deleted > 0) logger.info({ deleted }, 'deliveries past retention deleted');
      return deleted;
    },
    logger,
    { idleMs: RETENTION_IDLE_MS, errorMs: 60_000 },
  );
}
