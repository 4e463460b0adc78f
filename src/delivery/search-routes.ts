import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withQueryTimeout, type Database } from '../db/index.ts';
import { notFound } from '../errors/index.ts';
import {
  type AuthHooks,
  clientSignal,
  decodeTimeCursor,
  errorResponses,
  Page,
  PageQuery,
  listingForms,
  pageOf,
  scoped,
  workspaceOf,
} from '../http/index.ts';
import type { IntegrationService } from '../integrations/index.ts';
import { presentDelivery } from './present.ts';
import { attemptsOf } from './queries.ts';
import { DeliverySchema, DeliveryStatusSchema } from './schemas.ts';
import { searchDeliveries } from './search.ts';

export interface DeliverySearchRoutesOptions {
  db: Database;
  integrations: IntegrationService;
  auth: AuthHooks;
}

const secured = { security: [{ bearerAuth: [] }], tags: ['deliveries'] };

const Uuid = Type.String({ format: 'uuid' });

const SearchQuery = Type.Object({
  ...PageQuery,
  webhook_id: Type.Optional(Type.String({ maxLength: 100 })),
  integration_id: Type.Optional(Type.String({ maxLength: 100 })),
  form_id: Type.Optional(Uuid),
  status: Type.Optional(DeliveryStatusSchema),
  event: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  response_id: Type.Optional(Uuid),
  status_code: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
});

/** `GET /deliveries`: the workspace's deliveries, searched (DESIGN.md section 4b). */
export const deliverySearchRoutes: FastifyPluginAsyncTypebox<DeliverySearchRoutesOptions> = async (
  app,
  { db, integrations, auth },
) => {
  app.get(
    '/deliveries',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'list'),
      schema: {
        ...secured,
        summary: "The workspace's deliveries matching every filter given, newest first",
        querystring: SearchQuery,
        response: { 200: Page(DeliverySchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const query = request.query;
      // A form-limited key: 404 for a form_id of another form, and only its forms' deliveries.
      const formIds = listingForms(request, query.form_id);
      // A webhook or integration of another workspace (or none) is a 404, as on its own
      // listing; a form or response id that is not the workspace's simply matches nothing.
      const reachable = async (found: Promise<{ id: string; form_id: string | null }>) => {
        const integration = await found;
        // A form-limited key: another form's integration, or a workspace-wide one, is absent.
        if (formIds && (integration.form_id === null || !formIds.includes(integration.form_id)))
          throw notFound('integration');
        return integration.id;
      };
      const ids = [
        query.webhook_id === undefined
          ? undefined
          : await reachable(integrations.get(workspaceId, query.webhook_id, 'webhook')),
        query.integration_id === undefined
          ? undefined
          : await reachable(integrations.get(workspaceId, query.integration_id)),
      ].filter((id) => id !== undefined);
      // Both given: the deliveries of one integration that is both, else none.
      if (ids.length === 2 && ids[0] !== ids[1]) return emptyPage();
      const integrationId = ids[0];
      const limit = query.limit ?? 50;
      const cursor = query.cursor ? decodeTimeCursor(query.cursor) : undefined;
      const reader = withQueryTimeout(db, { signal: clientSignal(reply) });
      const rows = await searchDeliveries(reader, {
        workspaceId,
        integrationId,
        formId: query.form_id,
        formIds,
        status: query.status,
        event: query.event,
        responseId: query.response_id,
        statusCode: query.status_code,
        since: query.since ? new Date(query.since) : undefined,
        until: query.until ? new Date(query.until) : undefined,
        limit: limit + 1,
        before: cursor ? { createdAt: cursor.at, id: cursor.id } : undefined,
      });
      const attempts = await attemptsOf(
        reader,
        rows.slice(0, limit).map((r) => r.id),
      );
      return pageOf(
        rows,
        limit,
        (row) => ({ t: row.created_at.toISOString(), id: row.id }),
        (row) =>
          presentDelivery(
            row,
            attempts.filter((a) => a.delivery_id === row.id),
          ),
      );
    },
  );
};

function emptyPage() {
  return { data: [], next_cursor: null };
}
