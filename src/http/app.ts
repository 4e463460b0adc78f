import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { loadEncryptionKey, type Config } from '../config/index.ts';
import {
  BullDeliveryQueue,
  DeliveryService,
  deliveryRoutes,
  type DeliveryQueue,
} from '../delivery/index.ts';
import { IntegrationService, integrationRoutes } from '../integrations/index.ts';
import { loadAllPlugins, type PluginRegistry } from '../plugins/index.ts';
import { SecretBox } from '../secrets/index.ts';
import { zapierRoutes } from '../zapier/index.ts';
import {
  BullReportScheduler,
  createPdfRenderer,
  ScheduledReportService,
  reportRoutes,
} from '../reports/index.ts';
import { exportRoutes } from '../exports/index.ts';
import {
  analyticsRoutes,
  InsightsService,
  MetricsChanges,
  MetricsService,
  MetricsStore,
  QueryService,
} from '../analytics/index.ts';
import { cachedRoutes, createCaches } from '../cache/index.ts';
import type { Database } from '../db/index.ts';
import { uuidv7 } from '../common/ids.ts';
import { FormService, formRoutes } from '../forms/index.ts';
import type { Redis } from '../redis/index.ts';
import { ResponseService, responseRoutes } from '../responses/index.ts';
import { WorkspaceService, workspaceRoutes } from '../workspaces/index.ts';
import { createAuthHooks } from './auth.ts';
import { registerBoundedClose } from './bounded-close.ts';
import { frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandler } from './error-handler.ts';
import { registerHealthRoutes } from './health.ts';
import { registerIdCase } from './id-case.ts';
import { registerLoadShedding } from './load-shedding.ts';
import { createMetricsRegistry, registerHttpMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { registerConsole } from './console.ts';
import {
  createRateLimiter,
  createUnauthorizedLimiter,
  MemoryCounterStore,
  RedisCounterStore,
} from './rate-limit.ts';
import { ErrorBody } from './schemas.ts';
import { serverOptions } from './server-options.ts';
import { createValidatorCompiler } from './validators.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  redis: Redis;
  /** A shared registry when API and worker run in one process. */
  metrics?: Registry;
  /** pino options or false; defaults to JSON logs at the configured level. */
  logger?: boolean | object;
  /** Shared with the worker in `formhub serve`; made here when absent. */
  plugins?: PluginRegistry;
  secrets?: SecretBox;
  queue?: DeliveryQueue;
  /** The clock forecasts and trends are computed for; the system clock when absent. */
  clock?: () => Date;
}

/** 1 MiB: the largest response (or any JSON body but an import) the API accepts. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const VERSION = '0.1.0';

/** Builds the HTTP API: every route, the error handler, metrics, health and OpenAPI. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db, redis } = deps;
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => uuidv7(),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    ...serverOptions(config.http),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandler(app);
  registerBoundedClose(app);
  registerIdCase(app);
  // JSON in (DESIGN.md section 3): without fastify's text/plain parser any other type is 415.
  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorBody);
  const registry = deps.metrics ?? createMetricsRegistry();
  registerHttpMetrics(app, registry);
  registerHealthRoutes(app, {
    database: () => db.ping(),
    redis: async () => void (await redis.ping()),
  });
  await registerOpenApi(app, VERSION);
  await registerConsole(app);

  const plugins = deps.plugins ?? (await loadAllPlugins(config, app.log as never));
  const secrets = deps.secrets ?? new SecretBox(loadEncryptionKey(config));
  const queue = deps.queue ?? new BullDeliveryQueue(config);
  if (!deps.queue) app.addHook('onClose', () => queue.close());
  const caches = createCaches(config, redis, registry);
  app.addHook('onClose', () => caches.close());
  cachedRoutes(app, caches);
  const workspaces = new WorkspaceService(db, config.adminKey, caches);
  const forms = new FormService(db, caches);
  const responses = new ResponseService(db, forms);
  const integrations = new IntegrationService(db, forms, plugins, secrets, config);
  const deliveries = new DeliveryService(db, queue);
  const connectors = config.features.connectors;
  const reportScheduler = config.features.reports ? new BullReportScheduler(config) : undefined;
  if (reportScheduler) app.addHook('onClose', () => reportScheduler.close());
  const changes = new MetricsChanges(redis, config.redis.prefix);
  app.addHook('onClose', () => changes.close());
  const metrics = new MetricsService(
    db,
    new MetricsStore(redis, config.redis.prefix),
    forms,
    app.log as never,
    changes,
  );
  const auth = createAuthHooks(
    (key, beforeLookup) => workspaces.authenticate(key, beforeLookup),
    createUnauthorizedLimiter(
      new RedisCounterStore(redis, config.redis.prefix),
      new MemoryCounterStore(),
      {
        perIp: config.rateLimit.unauthorizedPerIp,
        windowMs: config.rateLimit.windowMs,
      },
    ),
  );
  const rateLimit = createRateLimiter(
    new RedisCounterStore(redis, config.redis.prefix),
    new MemoryCounterStore(),
    config.rateLimit,
  );

  await app.register(
    async (api) => {
      await registerLoadShedding(api, config.http.loadShedding);
      await api.register(workspaceRoutes, { service: workspaces, auth });
      await api.register(formRoutes, { service: forms, auth, rateLimit });
      await api.register(responseRoutes, {
        service: responses,
        forms,
        db,
        auth,
        rateLimit,
        importBodyLimitBytes: config.importBodyLimitBytes,
        afterImport: (formId) => metrics.invalidate(formId),
      });
      await api.register(exportRoutes, {
        db,
        forms,
        auth,
        dataDir: config.dataDir,
        ttlMs: config.exports.ttlMs,
        queryTimeoutMs: config.limits.queryTimeoutMs,
        renderPdf: createPdfRenderer(db.reader, workspaces),
        threadDatabaseUrl: config.database.url, // on PostgreSQL, exports run on threads
      });
      if (reportScheduler) {
        await api.register(reportRoutes, {
          service: new ScheduledReportService(db, forms, reportScheduler),
          auth,
        });
      }
      if (config.features.analytics)
        await api.register(analyticsRoutes, {
          metrics,
          changes,
          insights: new InsightsService(db, forms),
          queries: new QueryService(db, forms),
          auth,
          streamKeyCheckMs: config.limits.streamKeyCheckMs,
          clock: deps.clock,
        });
      await api.register(integrationRoutes, { service: integrations, plugins, auth, connectors });
      await api.register(deliveryRoutes, { deliveries, integrations, forms, auth, connectors });
      await api.register(zapierRoutes, { workspaces, forms, responses, integrations, auth });
    },
    { prefix: '/api/v2' },
  );
  return app;
}
