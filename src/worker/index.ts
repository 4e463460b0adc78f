import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import {
  DeliveryEngine,
  DeliveryMetrics,
  DeliverySweeper,
  OutboxRelay,
  startDeliveryWorker,
  type DeliveryQueue,
} from '../delivery/index.ts';
import { createCredentialsResolver } from '../integrations/index.ts';
import { createGuardedAgent } from '../net/index.ts';
import type { PluginRegistry } from '../plugins/index.ts';
import type { Redis } from '../redis/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { InsightsService, MetricsChanges, MetricsService, MetricsStore, startAnalyticsJobs } from '../analytics/index.ts';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../common/deadline.ts';
import { startLoop } from '../common/loop.ts';
import { FormService } from '../forms/index.ts';
import { createPdfRenderer, ExportReportRenderer, startReportJobs } from '../reports/index.ts';
import { WorkspaceService } from '../workspaces/index.ts';

export interface WorkerDeps {
  config: Config;
  db: Database;
  redis: Redis;
  logger: Logger;
  plugins: PluginRegistry;
  secrets: SecretBox;
  queue: DeliveryQueue;
  metrics?: Registry;
  /** Outbound requests (plugin runs) at once (default 50); attempts in flight are 8 times that. */
  concurrency?: number;
}

/** Delivery attempts in flight per outbound request slot. */
const ATTEMPTS_PER_SEND_SLOT = 8;

/** A running worker; `close` lets in-flight jobs finish, then stops. */
export interface RunningWorker {
  relay: OutboxRelay;
  sweeper: DeliverySweeper;
  engine: DeliveryEngine;
  close(): Promise<void>;
}

/**
 * Starts the background side of the hub: the outbox relay, the delivery workers and the
 * sweeper that re-queues what Redis lost. Analytics and reports register here too.
 */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, db, logger, queue } = deps;
  const dispatcher = createGuardedAgent({
    allowPrivate: config.webhooks.allowPrivateTargets,
    timeoutMs: config.webhooks.timeoutMs,
  });
  const sending = deps.concurrency ?? 50;
  const engine = new DeliveryEngine({
    db,
    plugins: deps.plugins,
    secrets: deps.secrets,
    queue,
    config,
    logger,
    dispatcher,
    credentials: createCredentialsResolver(config, logger),
    metrics: deps.metrics ? new DeliveryMetrics(deps.metrics, queue) : undefined,
    maxSending: sending,
  });
  const relay = new OutboxRelay(db, queue, logger);
  const sweeper = new DeliverySweeper(db, queue, logger);
  // More attempts than sends: an attempt waits on batched claims and commits most of its
  // time, and holds one of the `sending` slots only while its request is out.
  const workers = startDeliveryWorker(config, engine, logger, sending * ATTEMPTS_PER_SEND_SLOT);
  relay.start();
  sweeper.start();
  const changes = new MetricsChanges(deps.redis, config.redis.prefix);
  const store = new MetricsStore(deps.redis, config.redis.prefix);
  const metrics = new MetricsService(db, store, new FormService(db), logger, changes);
  const aggregator = config.features.analytics
    ? startLoop('analytics aggregation', () => metrics.applyPending(), logger)
    : undefined;
  const reportJobs = config.features.reports
    ? await startReportJobs(
        config,
        {
          db,
          renderer: new ExportReportRenderer(db, createPdfRenderer(db.reader, new WorkspaceService(db, undefined)), {
            queryTimeoutMs: config.limits.queryTimeoutMs,
          }),
        },
        logger,
      )
    : undefined;
  const analyticsJobs = config.features.analytics
    ? await startAnalyticsJobs(config, new InsightsService(db, new FormService(db)), metrics, logger)
    : undefined;
  logger.info({ plugins: deps.plugins.list().map((p) => p.metadata.id) }, 'worker started');
  return {
    relay,
    sweeper,
    engine,
    async close() {
      await relay.stop();
      await aggregator?.stop();
      await analyticsJobs?.close();
      await reportJobs?.close();
      await sweeper.stop();
      await workers.close();
      // Requests of attempts the worker stopped waiting for may still be out: they get the
      // deadline, then are cut (their deliveries are in PostgreSQL, their jobs run again).
      if (!(await finishedWithin(dispatcher.close(), CLOSE_DEADLINE_MS))) await dispatcher.destroy();
    },
  };
}
