import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  type AuthHooks,
  workspaceOf,
  decodeIdCursor,
  pageOf,
  errorResponses,
  IdParams,
  Page,
  PageQuery,
} from '../http/index.ts';
import type { PluginRegistry } from '../plugins/index.ts';
import { presentIntegration } from './present.ts';
import type { IntegrationRow } from './queries.ts';
import * as s from './schemas.ts';
import type { IntegrationService } from './service.ts';

export interface IntegrationRoutesOptions {
  service: IntegrationService;
  plugins: PluginRegistry;
  auth: AuthHooks;
}

const integrationTags = { security: [{ bearerAuth: [] }], tags: ['integrations'] };

function page<T>(rows: IntegrationRow[], limit: number, present: (row: IntegrationRow) => T) {
  return pageOf(rows, limit, (row) => ({ id: row.id }), present);
}

/**
 * `GET /connectors` and `/integrations`: the connectors this hub has loaded and the forms'
 * integrations with them (registered only when FEATURE_CONNECTORS is on). Webhooks, one
 * connector among them, have routes of their own in src/webhooks.
 */
export const integrationRoutes: FastifyPluginAsyncTypebox<IntegrationRoutesOptions> = async (
  app,
  { service, plugins, auth },
) => {
  const present = (row: IntegrationRow, secret?: string) => ({
    ...presentIntegration(row, service.publicConfig(row)),
    ...(secret ? { secret } : {}),
  });

  app.get(
    '/connectors',
    {
      preHandler: auth.workspace,
      schema: {
        ...integrationTags,
        summary: 'The connectors this hub has loaded, with their config schemas',
        response: {
          200: Type.Object({ data: Type.Array(s.ConnectorSchema) }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => ({
      data: plugins.list().map(({ metadata }) => ({
        id: metadata.id,
        name: metadata.name,
        version: metadata.version,
        description: metadata.description,
        config_schema: metadata.configSchema,
      })),
    }),
  );

  app.post(
    '/forms/:id/integrations',
    {
      preHandler: auth.workspace,
      schema: {
        ...integrationTags,
        summary:
          "Connect a form to a connector; config is validated against the connector's schema",
        params: IdParams,
        body: s.IntegrationBody,
        response: { 201: s.IntegrationSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { events, active, ...config } = body.config as Record<string, unknown> & {
        events?: string[];
        active?: boolean;
      };
      const input =
        body.connector === 'webhook'
          ? { ...body, config, events: body.events ?? events, active: body.active ?? active }
          : body;
      const { row, secret } = await service.createIntegration(
        workspaceOf(request),
        request.params.id,
        input,
      );
      return reply.code(201).send(present(row, secret));
    },
  );

  app.get(
    '/forms/:id/integrations',
    {
      preHandler: auth.workspace,
      schema: {
        ...integrationTags,
        summary: "The form's integrations, of every connector",
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: Page(s.IntegrationSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.list(
        workspaceOf(request),
        request.params.id,
        undefined,
        limit + 1,
        before,
      );
      return page(rows, limit, (row) => present(row));
    },
  );

  app.get(
    '/integrations/:id',
    {
      preHandler: auth.workspace,
      schema: {
        ...integrationTags,
        summary: 'An integration (secrets omitted)',
        params: IdParams,
        response: { 200: s.IntegrationSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => present(await service.get(workspaceOf(request), request.params.id)),
  );

  app.patch(
    '/integrations/:id',
    {
      preHandler: auth.workspace,
      schema: {
        ...integrationTags,
        summary: 'Change an integration; config is merged key by key and validated again',
        params: IdParams,
        body: s.IntegrationPatch,
        response: { 200: s.IntegrationSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => {
      return present(await service.update(workspaceOf(request), request.params.id, request.body));
    },
  );

  app.delete(
    '/integrations/:id',
    {
      preHandler: auth.workspace,
      schema: {
        ...integrationTags,
        summary: 'Delete an integration',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.delete(workspaceOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
