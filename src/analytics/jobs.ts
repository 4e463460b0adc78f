import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import { openRedis } from '../redis/index.ts';
import type { InsightsService } from './insights/index.ts';
import type { MetricsService } from './metrics/index.ts';

const QUEUE = 'analytics';
const WEEK_MS = 7 * 24 * 3_600_000;
const DAY_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;

/**
 * The analytics job schedulers (BullMQ): forecasts retrained weekly, anomalies scanned
 * daily (a new one raises an `analytics.anomaly` event), metrics reconciled hourly with
 * PostgreSQL (repaired when they differ). Upserting the schedulers is
 * idempotent, so every worker process may do it.
 */
export async function startAnalyticsJobs(
  config: Config,
  insights: InsightsService,
  metrics: MetricsService,
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
  const prefix = `${config.redis.prefix}bull`;
  const connection = openRedis(config.redis.url, 'blocking');
  const queue = new Queue(QUEUE, { connection, prefix });
  queue.on('error', (error) => logger.warn({ err: error.message }, 'analytics queue error'));
  await queue.upsertJobScheduler(
    'retrain-forecasts',
    { every: WEEK_MS },
    { name: 'retrain-forecasts' },
  );
  await queue.upsertJobScheduler('scan-anomalies', { every: DAY_MS }, { name: 'scan-anomalies' });
  await queue.upsertJobScheduler(
    'reconcile-metrics',
    { every: HOUR_MS },
    { name: 'reconcile-metrics' },
  );
  const workerConnection = connection.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(
    QUEUE,
    async (job) => {
      if (job.name === 'retrain-forecasts') return { retrained: await insights.retrainAll() };
      if (job.name === 'scan-anomalies') return { anomalies: await insights.scanAnomalies() };
      if (job.name === 'reconcile-metrics') return { repaired: await metrics.reconcileAll() };
      return undefined;
    },
    { connection: workerConnection, prefix, concurrency: 1 },
  );
  worker.on('error', (error) => logger.warn({ err: error.message }, 'analytics worker error'));
  worker.on('completed', (job, result) =>
    logger.info({ job: job.name, result }, 'analytics job done'),
  );
  worker.on('failed', (job, error) =>
    logger.warn({ job: job?.name, err: error.message }, 'analytics job failed'),
  );
  return {
    async close() {
      // A retraining or a reconcile in progress is not waited for past the deadline: each is
      // repeatable and its schedule runs it again.
      if (!(await finishedWithin(worker.close(), CLOSE_DEADLINE_MS))) {
        logger.warn('an analytics job was still running at shutdown; it will run again');
        await finishedWithin(worker.disconnect(), CLOSE_DEADLINE_MS);
      }
      await finishedWithin(queue.close(), CLOSE_DEADLINE_MS);
      workerConnection.disconnect(); // BullMQ does not close a connection it was given
      connection.disconnect();
    },
  };
}
