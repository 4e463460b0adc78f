import type { Logger } from 'pino';
import { startLoop } from '../common/index.ts';
import type { Database } from '../db/index.ts';

/** Operational events deleted per statement: short transactions, short locks. */
export const EVENT_RETENTION_BATCH = 500;
/** How long a workspace without `retention.deliveries_days` keeps its operational events. */
export const DEFAULT_EVENT_RETENTION_DAYS = 90;
/** How often the worker looks for operational events past their retention. */
const EVENT_RETENTION_IDLE_MS = 60 * 60 * 1000;

/**
 * Deletes one batch of operational events older than their workspace keeps them, with their
 * channel sends (`ON DELETE CASCADE`). An event is kept as long as its deliveries would be
 * (`retention.deliveries_days`, since it reports on them), or DEFAULT_EVENT_RETENTION_DAYS
 * when the workspace keeps deliveries forever; one with a send still pending is kept until
 * the notifier is done with it. Answers how many events went. `now` is for tests.
 */
export async function deleteExpiredOperationalEvents(
  db: Database,
  now = new Date(),
  batch = EVENT_RETENTION_BATCH,
): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH doomed AS (
       SELECT e.id FROM operational_events e
         JOIN workspaces w ON w.id = e.workspace_id
        WHERE e.created_at < $1::timestamptz
                - make_interval(days => COALESCE(w.retention_deliveries_days, $3))
          AND NOT EXISTS (SELECT 1 FROM notification_sends s
                           WHERE s.event_id = e.id AND s.status = 'pending')
        LIMIT $2
        FOR UPDATE OF e SKIP LOCKED
     ), gone AS (
       DELETE FROM operational_events e USING doomed WHERE e.id = doomed.id RETURNING 1
     )
     SELECT count(*) AS n FROM gone`,
    [now, batch, DEFAULT_EVENT_RETENTION_DAYS],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The worker's loop for it: batch after batch while there is work, then hourly. */
export function startOperationalEventRetention(
  db: Database,
  logger: Logger,
): { stop(): Promise<void> } {
  return startLoop(
    'operational event retention',
    async () => {
      const deleted = await deleteExpiredOperationalEvents(db);
      if (deleted > 0) logger.info({ deleted }, 'operational events past retention deleted');
      return deleted;
    },
    logger,
    { idleMs: EVENT_RETENTION_IDLE_MS, errorMs: 60_000 },
  );
}
