import type { Logger } from 'pino';
import { invalidateRouteCaches, type Caches } from '../cache/index.ts';
import type { ErasureCaches } from './runner.ts';

/**
 * The caches an erasure must empty, as a hub has them: the metrics aggregates of a form
 * (`MetricsService.forget`) and the workspace's route caches. Neither failure stops an
 * erasure: metrics are repaired by the hourly reconcile, route answers end with their TTL.
 */
export function hubErasureCaches(
  metrics: { forget(formId: string): Promise<void> },
  caches: Caches,
  logger: Logger,
): ErasureCaches {
  return {
    forgetMetrics: (formId) => metrics.forget(formId),
    forgetRoutes: (workspaceId) =>
      invalidateRouteCaches(caches, workspaceId).catch((error: Error) => {
        logger.warn({ err: error.message }, 'could not drop the route caches after an erasure');
      }),
  };
}
