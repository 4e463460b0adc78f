import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withQueryTimeout, type Database } from '../db/index.ts';
import {
  type AuthHooks,
  clientSignal,
  errorResponses,
  IdParams,
  scoped,
  Timestamp,
  workspaceOf,
} from '../http/index.ts';
import type { IntegrationService } from '../integrations/index.ts';
import { readStats } from './stats-read.ts';

export interface DeliveryStatsRoutesOptions {
  db: Database;
  integrations: IntegrationService;
  auth: AuthHooks;
  /** Serve `/integrations/:id/stats` too (off when FEATURE_CONNECTORS is false). */
  connectors: boolean;
}

const secured = { security: [{ bearerAuth: [] }], tags: ['deliveries'] };
const Count = Type.Integer({ minimum: 0 });
const Nullable = <T extends ReturnType<typeof Type.Number>>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const StatsQuery = Type.Object({
  window: Type.Optional(
    Type.Union([Type.Literal('1h'), Type.Literal('24h'), Type.Literal('7d')], { default: '24h' }),
  ),
});

const Stats = Type.Object({
  window: Type.String(),
  delivered: Count,
  failed_attempts: Count,
  dead: Count,
  pending: Count,
  filtered: Count,
  success_rate: Nullable(Type.Number({ description: 'delivered / (delivered + dead)' })),
  latency_ms: Type.Object({
    p50: Nullable(Type.Number()),
    p95: Nullable(Type.Number()),
  }),
  buckets: Type.Array(Type.Object({ t: Timestamp, delivered: Count, failed: Count })),
});

/** Delivery stats per webhook or integration (DESIGN.md section 4b). */
export const deliveryStatsRoutes: FastifyPluginAsyncTypebox<DeliveryStatsRoutesOptions> = async (
  app,
  { db, integrations, auth, connectors },
) => {
  const kinds: { base: string; connector: string | undefined }[] = [
    { base: '/webhooks', connector: 'webhook' },
  ];
  if (connectors) kinds.push({ base: '/integrations', connector: undefined });

  for (const { base, connector } of kinds) {
    app.get(
      `${base}/:id/stats`,
      {
        preHandler: auth.workspace,
        config: scoped('integrations:read', 'integration'),
        schema: {
          ...secured,
          summary: 'Delivered, failed, dead, pending and filtered counts, success rate and latency',
          params: IdParams,
          querystring: StatsQuery,
          response: { 200: Stats, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const integration = await integrations.get(
          workspaceOf(request),
          request.params.id,
          connector,
        );
        const reader = withQueryTimeout(db, { signal: clientSignal(reply) });
        return readStats(reader, integration.id, request.query.window ?? '24h');
      },
    );
  }
};
