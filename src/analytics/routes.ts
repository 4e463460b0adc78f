import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import {
  type AuthHooks,
  workspaceOf,
  clientSignal,
  errorResponses,
  IdParams,
  scoped,
} from '../http/index.ts';
import type { MetricsChanges, MetricsService } from './metrics/index.ts';
import { MetricsStreams, streamMetrics } from './stream.ts';
import { MetricsSchema, PredictionSchema, PredictQuery, TrendsSchema } from './schemas.ts';
import type { InsightsService } from './insights/index.ts';
import type { QueryService } from './query-service.ts';
import { Type } from 'typebox';
import { etagMatches, isUuid } from '../common/index.ts';
import { notFound } from '../errors/index.ts';

export interface AnalyticsRoutesOptions {
  metrics: MetricsService;
  changes: MetricsChanges;
  insights: InsightsService;
  queries: QueryService;
  auth: AuthHooks;
  /** How often an open stream checks that its API key is still valid (default 30 s). */
  streamKeyCheckMs?: number;
  /**
   * The instant forecasts and trends are computed for (default: the system clock). Tests pin
   * it so that what they expect and what the hub answers are the same day across midnight.
   */
  clock?: () => Date;
}

const tags = { security: [{ bearerAuth: [] }], tags: ['analytics'] };

/** Live metrics, the query DSL, forecasts, trends and the live stream. */
export const analyticsRoutes: FastifyPluginAsyncTypebox<AnalyticsRoutesOptions> = async (
  app,
  opts,
) => {
  const { metrics, auth } = opts;
  const clock = opts.clock ?? (() => new Date());
  // Open streams end when the app closes, before the server waits for its connections.
  const streams = new MetricsStreams();
  app.addHook('preClose', async () => streams.closeAll());

  app.get(
    '/analytics/forms/:id/metrics',
    {
      preHandler: auth.workspace,
      config: scoped('analytics:read', 'param'),
      schema: {
        ...tags,
        summary: 'Totals, today, completion rate, hour/day/month series and choice distributions',
        params: IdParams,
        response: {
          200: MetricsSchema,
          304: Type.Null({ description: 'Not modified: the If-None-Match ETag is current' }),
          ...errorResponses(401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const served = await metrics.serve(
        workspaceOf(request),
        request.params.id,
        clientSignal(reply),
      );
      // The JSON as stored with the document (a string with a JSON type is sent as it is,
      // not serialised again); a client holding it gets a 304 without it.
      reply
        .header('x-metrics-source', served.source)
        .header('etag', served.etag)
        .header('cache-control', 'private, no-cache');
      const untyped = reply as FastifyReply; // the body is the document's JSON, or none
      if (etagMatches(request.headers['if-none-match'], served.etag))
        return untyped.code(304).send();
      return untyped.type('application/json; charset=utf-8').send(served.json);
    },
  );

  app.post(
    '/analytics/forms/:id/query',
    {
      preHandler: auth.workspace,
      config: scoped('analytics:read', 'param'),
      schema: {
        ...tags,
        summary:
          'Run a query DSL aggregate (count, count_distinct, sum, avg, min, max) with filter and group_by',
        description:
          'See docs/analytics.md. A bad query answers 400 naming the offending part (at most 200 predicates, ' +
          '1,000 $in/$nin members, 32 levels); a query past QUERY_TIMEOUT is cancelled and answers 503 query_timeout.',
        params: IdParams,
        body: Type.Unknown({
          description: '{"aggregate", "field"?, "group_by"?, "filter"?, "limit"?}',
        }),
        response: {
          200: Type.Object({ result: Type.Unknown() }),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) =>
      opts.queries.run(workspaceOf(request), request.params.id, request.body, clientSignal(reply)),
  );

  app.get(
    '/analytics/predict/next-week',
    {
      preHandler: auth.workspace,
      config: scoped('analytics:read', 'query'),
      schema: {
        ...tags,
        summary:
          "The next 7 days' expected completed responses, with 80% intervals (a form, or the workspace)",
        querystring: PredictQuery,
        response: { 200: PredictionSchema, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const formId = request.query.form_id;
      if (formId !== undefined && !isUuid(formId)) throw notFound('form');
      return opts.insights.predict(workspaceOf(request), formId, clock(), clientSignal(reply));
    },
  );

  app.get(
    '/analytics/forms/:id/trends',
    {
      preHandler: auth.workspace,
      config: scoped('analytics:read', 'param'),
      schema: {
        ...tags,
        summary: 'Week-over-week change and anomalous days of the last 4 weeks',
        params: IdParams,
        response: { 200: TrendsSchema, ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request, reply) =>
      opts.insights.trends(workspaceOf(request), request.params.id, clock(), clientSignal(reply)),
  );

  app.get(
    '/analytics/forms/:id/stream',
    {
      preHandler: auth.workspace,
      config: scoped('analytics:read', 'param'),
      schema: {
        ...tags,
        summary:
          'Server-Sent Events: a `metrics` event on connect and after each change (at most twice a second)',
        params: IdParams,
        produces: ['text/event-stream'],
        response: { ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const first = await opts.metrics.get(workspaceId, request.params.id); // 404 before the stream opens
      let initial: typeof first.document | undefined = first.document;
      await streamMetrics(
        reply,
        async () => {
          const document =
            initial ?? (await opts.metrics.get(workspaceId, request.params.id)).document;
          initial = undefined;
          return document;
        },
        (onChange) => opts.changes.subscribe(first.document.form_id, onChange),
        {
          // The same check as the request's own: a revoked key fails it (DESIGN 3a: a
          // stream ends within 60 s of its key being revoked).
          stillAuthorized: async () => {
            await auth.workspace(request, reply);
            return workspaceOf(request) === workspaceId;
          },
          authCheckMs: opts.streamKeyCheckMs,
        },
        streams,
      );
    },
  );
};
