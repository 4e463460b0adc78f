import {
  DeliveryEngine,
  DeliveryStats,
  DeliverySweeper,
  startDeliveryRetention,
  OutboxRelay,
  RedisRateLimiter,
  startDeliveryWorker,
} from '../delivery/index.ts';
import { hubErasureCaches, startErasures, startResponseRetention } from '../erasure/index.ts';
import { createHub, type Hub, type HubDeps } from '../hub/index.ts';
import { createCredentialsResolver } from '../integrations/index.ts';
import { createGuardedAgent } from '../net/index.ts';
import { startAnalyticsJobs } from '../analytics/index.ts';
import { CLOSE_DEADLINE_MS, finishedWithin, startLoop } from '../common/index.ts';
import { ExportReportRenderer, startReportJobs } from '../reports/index.ts';
import { startNotifications, startOperationalEventRetention } from '../notifications/index.ts';
import { OutboxSignal } from '../events/index.ts';

export interface WorkerOptions {
  /** Outbound requests (plugin runs) at once (default 50); attempts in flight are 8 times that. */
  concurrency?: number;
  /** How often delivery stats are written (default 1 s; tests of the shutdown flush set it long). */
  statsFlushMs?: number;
}

/**
 * A hub to run on, or what to build one from (then the worker owns it and closes it).
 * Benchmarks that measure the worker alone pass the parts.
 */
export type WorkerDeps = Hub | (HubDeps & WorkerOptions);

/** Delivery attempts in flight per outbound request slot. */
const ATTEMPTS_PER_SEND_SLOT = 8;

/** A running worker; `close` lets in-flight jobs finish, then stops. */
export interface RunningWorker {
  relay: OutboxRelay;
  /** The outbox listener that wakes the relay (and analytics aggregation) on commits. */
  signal: OutboxSignal;
  sweeper: DeliverySweeper;
  engine: DeliveryEngine;
  stats: DeliveryStats;
  close(): Promise<void>;
}

/**
 * Starts the background side of the hub: the outbox relay, the delivery workers and the
 * sweeper that re-queues what Redis lost. Analytics and reports register here too.
 */
export async function startWorker(
  deps: WorkerDeps,
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const given = isHub(deps);
  const hub = isHub(deps) ? deps : await createHub(deps);
  const { config, db, logger, queue } = hub;
  const dispatcher = createGuardedAgent({
    allowPrivate: config.webhooks.allowPrivateTargets,
    timeoutMs: config.webhooks.timeoutMs,
  });
  const statsFlushMs = options.statsFlushMs ?? (isHub(deps) ? undefined : deps.statsFlushMs);
  const stats = new DeliveryStats(db, logger, { flushMs: statsFlushMs });
  const sending = options.concurrency ?? (isHub(deps) ? undefined : deps.concurrency) ?? 50;
  const engine = new DeliveryEngine({
    db,
    plugins: hub.plugins,
    secrets: hub.secrets,
    queue,
    config,
    logger,
    dispatcher,
    credentials: createCredentialsResolver(config, logger),
    metrics: hub.deliveryMetrics,
    stats,
    limiter: new RedisRateLimiter(hub.redis, config.redis.prefix),
    maxSending: sending,
  });
  const signal = new OutboxSignal(db, logger, (up) => hub.deliveryMetrics.setListenerUp(up));
  const relay = new OutboxRelay(db, queue, logger, {
    metrics: hub.deliveryMetrics,
    stats,
    signal,
    idleMs: config.outbox.pollMs,
    listeningIdleMs: config.outbox.listeningPollMs,
  });
  const sweeper = new DeliverySweeper(db, queue, logger);
  // More attempts than sends: an attempt waits on batched claims and commits most of its
  // time, and holds one of the `sending` slots only while its request is out.
  const workers = startDeliveryWorker(config, engine, logger, sending * ATTEMPTS_PER_SEND_SLOT);
  stats.start();
  relay.start();
  signal.subscribe((source) => relay.wake(source));
  sweeper.start();
  const retention = startDeliveryRetention(db, logger);
  const notifications = startNotifications({ db, secrets: hub.secrets, config, logger });
  const eventRetention = startOperationalEventRetention(db, logger);
  const metrics = hub.metrics;
  const erasureCaches = hubErasureCaches(metrics, hub.caches, logger);
  const erasures = startErasures({ db, caches: erasureCaches, logger });
  const responseRetention = startResponseRetention(db, erasureCaches, logger);
  const aggregator = config.features.analytics
    ? startLoop('analytics aggregation', () => metrics.applyPending(), logger, {
        idleMs: () => (signal.listening ? 1_000 : 200),
      })
    : undefined;
  // Live analytics reads the same events: a commit wakes it as it wakes the relay.
  if (aggregator) signal.subscribe(() => aggregator.wake());
  if (config.outbox.listen) signal.start();
  const reportJobs = config.features.reports
    ? await startReportJobs(
        config,
        {
          db,
          forms: hub.forms,
          scheduler: hub.reports?.scheduler,
          renderer: new ExportReportRenderer(db, hub.renderPdf, {
            queryTimeoutMs: config.limits.queryTimeoutMs,
            threads: hub.exportThreads,
          }),
        },
        logger,
      )
    : undefined;
  const analyticsJobs = config.features.analytics
    ? await startAnalyticsJobs(config, hub.insights, metrics, logger)
    : undefined;
  logger.info({ plugins: hub.plugins.list().map((p) => p.metadata.id) }, 'worker started');
  return {
    relay,
    signal,
    sweeper,
    engine,
    stats,
    async close() {
      await signal.close();
      await relay.stop();
      await aggregator?.stop();
      await analyticsJobs?.close();
      await reportJobs?.close();
      await sweeper.stop();
      await retention.stop();
      await notifications.stop();
      await eventRetention.stop();
      await erasures.stop();
      await responseRetention.stop();
      await workers.close();
      // After the relay and the engine: everything they counted is written.
      await stats.close();
      // Requests of attempts the worker stopped waiting for may still be out: they get the
      // deadline, then are cut (their deliveries are in PostgreSQL, their jobs run again).
      if (!(await finishedWithin(dispatcher.close(), CLOSE_DEADLINE_MS)))
        await dispatcher.destroy();
      if (!given) await hub.close();
    },
  };
}

function isHub(deps: WorkerDeps): deps is Hub {
  return 'forms' in deps;
}
