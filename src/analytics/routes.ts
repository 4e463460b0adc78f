import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type AuthHooks, workspaceOf } from '../http/auth.ts';
import { errorResponses, IdParams } from '../http/schemas.ts';
import type { MetricsService } from './metrics/index.ts';
import { MetricsSchema } from './schemas.ts';

export interface AnalyticsRoutesOptions {
  metrics: MetricsService;
  auth: AuthHooks;
}

const tags = { security: [{ bearerAuth: [] }], tags: ['analytics'] };

/** Live metrics, the query DSL, forecasts, trends and the live stream. */
export const analyticsRoutes: FastifyPluginAsyncTypebox<AnalyticsRoutesOptions> = async (app, opts) => {
  const { metrics, auth } = opts;

  app.get(
    '/analytics/forms/:id/metrics',
    {
      preHandler: auth.workspace,
      schema: {
        ...tags,
        summary: 'Totals, today, completion rate, hour/day/month series and choice distributions',
        params: IdParams,
        response: { 200: MetricsSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { document, source } = await metrics.get(workspaceOf(request), request.params.id);
      reply.header('x-metrics-source', source);
      return document;
    },
  );
};
