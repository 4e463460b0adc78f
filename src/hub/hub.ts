import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  InsightsService,
  MetricsChanges,
  MetricsService,
  MetricsStore,
  QueryService,
} from '../analytics/index.ts';
import { ArtifactStore } from '../artifacts/index.ts';
import { createCaches, type Caches } from '../cache/index.ts';
import { loadEncryptionKey, type Config } from '../config/index.ts';
import { embeddedPortOpener, PgDatabase, type Database } from '../db/index.ts';
import { ExportThreadPool } from '../exports/index.ts';
import {
  BullDeliveryQueue,
  DeliveryMetrics,
  DeliveryService,
  type DeliveryQueue,
} from '../delivery/index.ts';
import { OutboxNotifier } from '../events/index.ts';
import { FormService } from '../forms/index.ts';
import { IntegrationService } from '../integrations/index.ts';
import { createMetricsRegistry } from '../http/index.ts';
import { loadAllPlugins, type PluginRegistry } from '../plugins/index.ts';
import type { Redis } from '../redis/index.ts';
import {
  BullReportScheduler,
  createPdfRenderer,
  ScheduledReportService,
} from '../reports/index.ts';
import { ResponseService } from '../responses/index.ts';
import { SecretBox } from '../secrets/index.ts';
import { WebhookService } from '../webhooks/index.ts';
import { WorkspaceService } from '../workspaces/index.ts';

/** What a hub is built from: the configuration and the connections its opener owns. */
export interface HubDeps {
  config: Config;
  db: Database;
  redis: Redis;
  logger: Logger;
  /** One Prometheus registry for everything in the process; made here when absent. */
  metrics?: Registry;
  /** Given by a caller that manages them itself (benchmarks, tests); made here when absent. */
  plugins?: PluginRegistry;
  secrets?: SecretBox;
  queue?: DeliveryQueue;
}

/**
 * The hub's wiring: every service, queue, cache and plugin, built once. The API
 * (`buildApp`), the worker (`startWorker`), the CLI and the tests all run on one of these.
 */
export interface Hub {
  config: Config;
  db: Database;
  redis: Redis;
  logger: Logger;
  registry: Registry;
  plugins: PluginRegistry;
  secrets: SecretBox;
  queue: DeliveryQueue;
  caches: Caches;
  workspaces: WorkspaceService;
  forms: FormService;
  responses: ResponseService;
  integrations: IntegrationService;
  webhooks: WebhookService;
  deliveries: DeliveryService;
  /** The delivery engine's Prometheus metrics, on `registry`. */
  deliveryMetrics: DeliveryMetrics;
  changes: MetricsChanges;
  metrics: MetricsService;
  insights: InsightsService;
  queries: QueryService;
  renderPdf: ReturnType<typeof createPdfRenderer>;
  /**
   * Where exports and scheduled reports are read and formatted, away from the event loop:
   * threads with pools of their own on PostgreSQL, with a port each to the PGlite thread on
   * the embedded database this process owns; absent in a process that shares that database
   * through its socket (they then run in process).
   */
  exportThreads: ExportThreadPool | undefined;
  /** Files kept in PostgreSQL for download from any API process (export job files). */
  artifacts: ArtifactStore;
  /** Present when FEATURE_REPORTS is on. */
  reports: { scheduler: BullReportScheduler; service: ScheduledReportService } | undefined;
  /**
   * Closes what the hub made, last made first: close the API and the worker before, and
   * the database and Redis connections (which the opener owns) after.
   */
  close(): Promise<void>;
}

/** Builds the hub's services on open connections. */
export async function createHub(deps: HubDeps): Promise<Hub> {
  const { config, db, redis, logger } = deps;
  const closers: (() => Promise<void>)[] = [];
  const registry = deps.metrics ?? createMetricsRegistry();
  const plugins = deps.plugins ?? (await loadAllPlugins(config, logger));
  const secrets = deps.secrets ?? new SecretBox(loadEncryptionKey(config));
  let queue = deps.queue;
  if (!queue) {
    const owned = new BullDeliveryQueue(config);
    closers.push(() => owned.close());
    queue = owned;
  }
  const caches = createCaches(config, redis, registry);
  closers.push(() => caches.close());
  const workspaces = new WorkspaceService(db, config.adminKey, caches);
  const forms = new FormService(db, caches);
  const changes = new MetricsChanges(redis, config.redis.prefix);
  closers.push(() => changes.close());
  const reports = config.features.reports ? createReports(config, db, forms) : undefined;
  if (reports) closers.push(() => reports.scheduler.close());
  const store = new MetricsStore(redis, config.redis.prefix);
  const integrations = new IntegrationService(db, forms, plugins, secrets, config);
  const exportThreads = createExportThreads(config, db);
  // After each commit that wrote events: wakes every relay that LISTENs (docs/operations.md).
  const outbox = new OutboxNotifier(db, logger);
  if (exportThreads) closers.push(() => exportThreads.close());
  return {
    config,
    db,
    redis,
    logger,
    registry,
    plugins,
    secrets,
    queue,
    caches,
    workspaces,
    forms,
    responses: new ResponseService(db, forms, outbox),
    integrations,
    webhooks: new WebhookService(integrations),
    deliveries: new DeliveryService(db, queue, logger),
    deliveryMetrics: new DeliveryMetrics(registry, queue),
    changes,
    metrics: new MetricsService(db, store, forms, logger, changes),
    insights: new InsightsService(db, forms, outbox),
    queries: new QueryService(db, forms),
    renderPdf: createPdfRenderer(db.reader, workspaces),
    exportThreads,
    artifacts: new ArtifactStore({ db }),
    reports,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

function createExportThreads(config: Config, db: Database): ExportThreadPool | undefined {
  // PostgreSQL, or the embedded database shared through its owner's socket: a URL the
  // threads connect to (QUERY_TIMEOUT holds on both: SET LOCAL statement_timeout, which the
  // owner's PGlite thread honours for its socket's clients). The owner: a port each.
  const databaseUrl = config.database.url ?? (db instanceof PgDatabase ? db.url : undefined);
  const openPort = databaseUrl ? undefined : embeddedPortOpener(db);
  if (!databaseUrl && !openPort) return undefined;
  return new ExportThreadPool({
    databaseUrl,
    openPort,
    queryTimeoutMs: config.limits.queryTimeoutMs,
    pdf: true, // the hub always has the reports module's renderer (renderPdf above)
  });
}

function createReports(config: Config, db: Database, forms: FormService) {
  const scheduler = new BullReportScheduler(config);
  return { scheduler, service: new ScheduledReportService(db, forms, scheduler) };
}
