import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FormService } from '../forms/index.ts';
import {
  type AuthHooks,
  workspaceOf,
  decodeTimeCursor,
  pageOf,
  errorResponses,
  IdParams,
  Page,
  scoped,
} from '../http/index.ts';
import type { IntegrationService } from '../integrations/index.ts';
import { DeliveryListQuery, DeliverySchema, ReplayRangeBody } from './schemas.ts';
import type { DeliveryService } from './service.ts';

export interface DeliveryRoutesOptions {
  deliveries: DeliveryService;
  integrations: IntegrationService;
  forms: FormService;
  auth: AuthHooks;
  /** Serve `/integrations/:id/...` too (off when FEATURE_CONNECTORS is false). */
  connectors: boolean;
}

const secured = { security: [{ bearerAuth: [] }], tags: ['deliveries'] };

/** Delivery logs, replays and test events, for webhooks and for every integration. */
export const deliveryRoutes: FastifyPluginAsyncTypebox<DeliveryRoutesOptions> = async (
  app,
  opts,
) => {
  const { deliveries, integrations, forms, auth } = opts;
  const kinds: { base: string; connector: string | undefined }[] = [
    { base: '/webhooks', connector: 'webhook' },
  ];
  if (opts.connectors) kinds.push({ base: '/integrations', connector: undefined });

  for (const { base, connector } of kinds) {
    app.get(
      `${base}/:id/deliveries`,
      {
        preHandler: auth.workspace,
        config: scoped('integrations:read', 'integration'),
        schema: {
          ...secured,
          summary: 'The deliveries and their attempt logs, newest first',
          params: IdParams,
          querystring: DeliveryListQuery,
          response: { 200: Page(DeliverySchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const integration = await integrations.get(
          workspaceOf(request),
          request.params.id,
          connector,
        );
        const limit = request.query.limit ?? 50;
        const cursor = request.query.cursor ? decodeTimeCursor(request.query.cursor) : undefined;
        const before = cursor ? { createdAt: cursor.at, id: cursor.id } : undefined;
        const rows = await deliveries.list(integration, request.query.status, limit + 1, before);
        return pageOf(
          rows,
          limit,
          (row) => ({ t: row.created_at, id: row.id }),
          (row) => row,
        );
      },
    );

    app.post(
      `${base}/:id/test`,
      {
        preHandler: auth.workspace,
        config: scoped('integrations:write', 'integration'),
        schema: {
          ...secured,
          summary: 'Send a ping event through the delivery engine',
          params: IdParams,
          response: { 202: DeliverySchema, ...errorResponses(401, 403, 404) },
        },
      },
      async (request, reply) => {
        const workspaceId = workspaceOf(request);
        const integration = await integrations.get(workspaceId, request.params.id, connector);
        // A workspace-wide integration has no form of its own: its ping names none.
        const title =
          integration.form_id === null
            ? ''
            : (await forms.get(workspaceId, integration.form_id)).title;
        return reply.code(202).send(await deliveries.test(integration, title));
      },
    );

    app.post(
      `${base}/:id/replay`,
      {
        preHandler: auth.workspace,
        config: scoped('integrations:write', 'integration'),
        schema: {
          ...secured,
          summary: 'Replay every delivery created in [since, until] (optionally of one status)',
          params: IdParams,
          body: ReplayRangeBody,
          response: {
            202: Type.Object({ replayed: Type.Integer() }),
            ...errorResponses(401, 403, 404, 422),
          },
        },
      },
      async (request, reply) => {
        const integration = await integrations.get(
          workspaceOf(request),
          request.params.id,
          connector,
        );
        const { since, until, status } = request.body;
        const replayed = await deliveries.replayRange(
          integration,
          new Date(since),
          until ? new Date(until) : new Date(),
          status,
        );
        return reply.code(202).send({ replayed });
      },
    );
  }

  app.get(
    '/deliveries/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'delivery'),
      schema: {
        ...secured,
        summary: 'A delivery and its attempts',
        params: IdParams,
        response: { 200: DeliverySchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => deliveries.get(workspaceOf(request), request.params.id),
  );

  app.post(
    '/deliveries/:id/replay',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'delivery'),
      schema: {
        ...secured,
        summary: 'Deliver again: same id and payload, the attempt marked manual',
        params: IdParams,
        response: { 202: DeliverySchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await deliveries.replay(workspaceOf(request), request.params.id)),
  );
};
