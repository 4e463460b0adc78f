import type { Logger } from 'pino';
import { startLoop } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import {
  addCounts,
  deleteExportFiles,
  eraseBatch,
  ERASURE_BATCH,
  NO_COUNTS,
  type ErasedCounts,
} from './erase.ts';
import { formsFrom } from './queries.ts';
import type { ErasureCaches } from './runner.ts';

/** How often the worker looks for responses past their workspace's retention. */
export const RESPONSE_RETENTION_IDLE_MS = 60 * 60 * 1000;

/**
 * Deletes one batch per form of each workspace's responses submitted before its
 * `retention_responses_days`, through the erasure's own batch (events, deliveries and
 * their attempts, idempotency records go with them; the form's finished export files
 * too), then drops the metrics of the forms that lost responses. Answers what went.
 * `now` is for tests.
 */
export async function deleteExpiredResponses(
  db: Database,
  caches: ErasureCaches,
  now = new Date(),
  batch = ERASURE_BATCH,
): Promise<ErasedCounts> {
  const { rows: workspaces } = await db.query<{ id: string; days: number }>(
    `SELECT id, retention_responses_days AS days FROM workspaces
      WHERE retention_responses_days IS NOT NULL`,
  );
  let total = NO_COUNTS;
  for (const { id: workspaceId, days } of workspaces) {
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const where = (params: unknown[]) => {
      params.push(cutoff);
      return `r.submitted_at < $${params.length}::timestamptz`;
    };
    let touched = false;
    for (const form of await formsFrom(db, workspaceId, null, null)) {
      const erased = await db.transaction(async (tx) => {
        const counts = await eraseBatch(tx, { workspaceId, formId: form.id, where }, batch);
        if (counts.responses === 0) return counts;
        return addCounts(counts, { export_files: await deleteExportFiles(tx, [form.id]) });
      });
      if (erased.responses === 0) continue;
      total = addCounts(total, erased);
      touched = true;
      await caches.forgetMetrics(form.id);
    }
    if (touched) await caches.forgetRoutes(workspaceId);
  }
  return total;
}

/** The worker's responses retention loop: batch after batch while there is work, then hourly. */
export function startResponseRetention(
  db: Database,
  caches: ErasureCaches,
  logger: Logger,
): { stop(): Promise<void> } {
  return startLoop(
    'responses retention',
    async () => {
      const erased = await deleteExpiredResponses(db, caches);
      if (erased.responses > 0) logger.info({ erased }, 'responses past retention deleted');
      return erased.responses;
    },
    logger,
    { idleMs: RESPONSE_RETENTION_IDLE_MS, errorMs: 60_000 },
  );
}
