import type { Logger } from 'pino';
import { startLoop } from '../common/index.ts';
import type { Database } from '../db/index.ts';

/** Deliveries deleted per transaction: short transactions, short locks. */
export const RETENTION_BATCH = 500;
/** How often the worker looks for deliveries past their workspace's retention. */
export const RETENTION_IDLE_MS = 60 * 60 * 1000;

/** Above every uuid: the first batch of an integration starts at the cutoff itself. */
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * Where one drain of a backlog has got to, per integration: the (created_at, id) of the
 * oldest delivery it deleted (created_at as PostgreSQL's text, since a JS Date would drop
 * the microseconds), or `done` when a batch came back short. Each batch starts below its
 * integration's key, so it walks `deliveries_integration_idx` from where the previous one
 * stopped instead of past the dead entries of everything deleted before it (they stay in
 * the index until vacuum). Cleared when a drain finds nothing more.
 */
export type RetentionCursor = Map<string, { createdAt: string; id: string } | 'done'>;

/**
 * Deletes one batch of each integration's deliveries older than its workspace's
 * `retention_deliveries_days`, newest first, with their attempt logs and payloads (which
 * have no foreign key to cascade through: see migrations 0005 and 0023) in the same
 * statement; the schedule row of a delivery still waiting for an attempt means it is not
 * finished, and it is kept until it is (a later drain looks again). Answers how many deliveries went. Pass the same `cursor`
 * to the calls of one drain; without one, every call starts at the cutoff. `now` is for
 * tests.
 */
export async function deleteExpiredDeliveries(
  db: Database,
  now = new Date(),
  batch = RETENTION_BATCH,
  cursor: RetentionCursor = new Map(),
): Promise<number> {
  const { rows: integrations } = await db.query<{ id: string; days: number }>(
    `SELECT i.id, w.retention_deliveries_days AS days
       FROM workspaces w JOIN integrations i ON i.workspace_id = w.id
      WHERE w.retention_deliveries_days IS NOT NULL`,
  );
  let deleted = 0;
  for (const { id, days } of integrations) {
    const from = cursor.get(id);
    if (from === 'done') continue;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const { rows } = await db.query<{ n: string; created_at: string | null; id: string | null }>(
      `WITH doomed AS (
         SELECT d.id, d.created_at FROM deliveries d
          WHERE d.integration_id = $1
            AND d.created_at < $2
            AND (d.created_at, d.id) < ($3::timestamptz, $4::uuid)
            AND NOT EXISTS (SELECT 1 FROM delivery_schedule s WHERE s.delivery_id = d.id)
          ORDER BY d.created_at DESC, d.id DESC
          LIMIT $5
          FOR UPDATE OF d SKIP LOCKED
       ), attempts AS (
         DELETE FROM delivery_attempts a USING doomed WHERE a.delivery_id = doomed.id
       ), payloads AS (
         DELETE FROM delivery_payloads p USING doomed WHERE p.delivery_id = doomed.id
       ), gone AS (
         DELETE FROM deliveries d USING doomed WHERE d.id = doomed.id RETURNING 1
       ), last AS (
         SELECT created_at::text AS created_at, id::text AS id FROM doomed
          ORDER BY created_at, id LIMIT 1
       )
       SELECT (SELECT count(*) FROM gone) AS n, last.created_at, last.id
         FROM (SELECT 1) one LEFT JOIN last ON true`,
      [id, cutoff, from?.createdAt ?? cutoff, from?.id ?? MAX_UUID, batch],
    );
    const n = Number(rows[0]?.n ?? 0);
    deleted += n;
    const last = rows[0];
    cursor.set(
      id,
      n < batch || !last?.created_at || !last.id
        ? 'done'
        : { createdAt: last.created_at, id: last.id },
    );
  }
  return deleted;
}

/** The worker's retention loop: batch after batch while there is work, then hourly. */
export function startDeliveryRetention(db: Database, logger: Logger): { stop(): Promise<void> } {
  const cursor: RetentionCursor = new Map();
  return startLoop(
    'delivery retention',
    async () => {
      const deleted = await deleteExpiredDeliveries(db, new Date(), RETENTION_BATCH, cursor);
      if (deleted > 0) logger.info({ deleted }, 'deliveries past retention deleted');
      else cursor.clear(); // drained: the next run starts again at each cutoff
      return deleted;
    },
    logger,
    { idleMs: RETENTION_IDLE_MS, errorMs: 60_000 },
  );
}
