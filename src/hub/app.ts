import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { auditRoutes, registerAuditLog } from '../audit/index.ts';
import { deliveryRoutes, deliverySearchRoutes, deliveryStatsRoutes } from '../delivery/index.ts';
import { eventTypeRoutes, openApiWebhooks } from '../events/index.ts';
import { integrationRoutes } from '../integrations/index.ts';
import { webhookRoutes } from '../webhooks/index.ts';
import { zapierRoutes } from '../zapier/index.ts';
import { NotificationService, notificationRoutes } from '../notifications/index.ts';
import { reportRoutes } from '../reports/index.ts';
import { exportRoutes } from '../exports/index.ts';
import { analyticsRoutes } from '../analytics/index.ts';
import { cachedRoutes } from '../cache/index.ts';
import { ErasureService, erasureRoutes } from '../erasure/index.ts';
import { uuidv7 } from '../common/index.ts';
import { formRoutes } from '../forms/index.ts';
import { responseRoutes } from '../responses/index.ts';
import { workspaceRoutes } from '../workspaces/index.ts';
import {
  createAuthHooks,
  frameworkErrors,
  MAX_PARAM_LENGTH,
  registerBoundedClose,
  registerErrorHandler,
  registerHealthRoutes,
  registerIdCase,
  registerLoadShedding,
  registerHttpMetrics,
  registerOpenApi,
  registerConsole,
  createRateLimiter,
  createUnauthorizedLimiter,
  MemoryCounterStore,
  RedisCounterStore,
  ErrorBody,
  serverOptions,
  lazyChildLoggerFactory,
  createValidatorCompiler,
} from '../http/index.ts';
import type { Hub } from './hub.ts';
import { tracer } from '../tracing/index.ts';

export interface AppOptions {
  /** pino options for request logs, or false; defaults to JSON logs at the configured level. */
  logger?: boolean | object;
  /** The clock forecasts and trends are computed for; the system clock when absent. */
  clock?: (() => Date) | undefined;
  /** Called with every route as it is added (tests walk the routes and their `scoped` option). */
  onRoute?: (route: RouteOptions) => void;
}

/** 1 MiB: the largest response (or any JSON body but an import) the API accepts. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const VERSION = '0.1.0';
const API_PREFIX = '/api/v2';

/**
 * Builds the HTTP API on a hub's services: every route, the error handler, metrics, health
 * and OpenAPI. Closing the app leaves the hub open; its owner closes it after.
 */
export async function buildApp(hub: Hub, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config, db, redis, caches, workspaces, forms, metrics } = hub;
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => uuidv7(),
    childLoggerFactory: lazyChildLoggerFactory,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    ...serverOptions(config.http),
  }).withTypeProvider<TypeBoxTypeProvider>();
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  // Hooks on every request are callback-style where they need not wait: an async hook costs
  // a promise and a microtask per request (docs/BENCHMARKS.md, the schema path).
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  const tracing = tracer();
  // The HTTP server span is named after the route (`POST /api/v2/forms/:id/responses`); no
  // hook at all when tracing is off.
  if (tracing.enabled) {
    app.addHook('onRequest', async (request) => {
      const route = request.routeOptions.url;
      if (route) tracing.nameRequest(request.method, route);
    });
  }
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandler(app);
  registerBoundedClose(app);
  registerIdCase(app);
  // JSON in (DESIGN.md section 3): without fastify's text/plain parser any other type is 415.
  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorBody);
  registerHttpMetrics(app, hub.registry);
  registerHealthRoutes(app, {
    database: () => db.ping(),
    redis: async () => void (await redis.ping()),
  });
  await registerOpenApi(app, VERSION, openApiWebhooks());
  await registerConsole(app);
  cachedRoutes(app, caches);
  const connectors = config.features.connectors;
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
    (kind, workspaceId, id) => workspaces.formOf(kind, workspaceId, id),
  );
  const rateLimit = createRateLimiter(
    new RedisCounterStore(redis, config.redis.prefix),
    new MemoryCounterStore(),
    config.rateLimit,
  );

  await app.register(
    async (api) => {
      await registerLoadShedding(api, config.http.loadShedding);
      registerAuditLog(api, db, API_PREFIX);
      await api.register(auditRoutes, { db, auth });
      await api.register(workspaceRoutes, { service: workspaces, auth });
      await api.register(formRoutes, { service: forms, auth, rateLimit });
      await api.register(responseRoutes, {
        service: hub.responses,
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
        artifacts: hub.artifacts,
        ttlMs: config.exports.ttlMs,
        queryTimeoutMs: config.limits.queryTimeoutMs,
        renderPdf: hub.renderPdf,
        threads: hub.exportThreads,
      });
      if (hub.reports) await api.register(reportRoutes, { service: hub.reports.service, auth });
      if (config.features.analytics)
        await api.register(analyticsRoutes, {
          metrics,
          changes: hub.changes,
          insights: hub.insights,
          queries: hub.queries,
          auth,
          streamKeyCheckMs: config.limits.streamKeyCheckMs,
          clock: options.clock,
        });
      await api.register(webhookRoutes, { service: hub.webhooks, auth });
      await api.register(eventTypeRoutes, { auth });
      if (connectors)
        await api.register(integrationRoutes, {
          service: hub.integrations,
          plugins: hub.plugins,
          auth,
        });
      await api.register(deliveryRoutes, {
        deliveries: hub.deliveries,
        integrations: hub.integrations,
        forms,
        auth,
        connectors,
      });
      await api.register(notificationRoutes, {
        service: new NotificationService({
          db,
          secrets: hub.secrets,
          logger: hub.logger,
          allowPrivateTargets: config.webhooks.allowPrivateTargets,
          smtpConfigured: config.smtp.url !== undefined,
        }),
        auth,
      });
      await api.register(erasureRoutes, { service: new ErasureService(db, forms), auth });
      await api.register(deliveryStatsRoutes, {
        db,
        integrations: hub.integrations,
        auth,
        connectors,
      });
      await api.register(deliverySearchRoutes, { db, integrations: hub.integrations, auth });
      await api.register(zapierRoutes, {
        workspaces,
        forms,
        responses: hub.responses,
        integrations: hub.integrations,
        auth,
      });
    },
    { prefix: API_PREFIX },
  );
  return app;
}
