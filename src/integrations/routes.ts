import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import {
  type AuthHooks,
  workspaceOf,
  decodeIdCursor,
  pageOf,
  errorResponses,
  IdParams,
  Page,
  PageQuery,
  scoped,
  listingForms,
} from '../http/index.ts';
import type { PluginRegistry } from '../plugins/index.ts';
import { presentIntegration } from './present.ts';
import type { IntegrationRow } from './queries.ts';
import * as s from './schemas.ts';
import type { IntegrationInput, IntegrationService } from './service.ts';

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
 * The service's input from a create body. A `webhook` integration may carry its `events`
 * and `active` inside `config` (the body of `POST /forms/:id/webhooks` as its config).
 */
function inputOf(body: Static<typeof s.IntegrationBody>): IntegrationInput {
  if (body.connector !== 'webhook') return body;
  const { events, active, ...config } = body.config as Record<string, unknown> & {
    events?: string[];
    active?: boolean;
  };
  return { ...body, config, events: body.events ?? events, active: body.active ?? active };
}

/**
 * `GET /connectors` and `/integrations`: the connectors this hub has loaded and the forms'
 * and the workspace's integrations with them (registered only when FEATURE_CONNECTORS is on). Webhooks, one
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
      config: scoped('integrations:read', 'none'),
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
      data: plugins.list().map((loaded) => ({
        id: loaded.metadata.id,
        name: loaded.metadata.name,
        version: loaded.metadata.version,
        description: loaded.metadata.description,
        config_schema: loaded.metadata.configSchema,
        source: loaded.origin,
        package: loaded.package ?? null,
      })),
    }),
  );

  app.post(
    '/forms/:id/integrations',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'param'),
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
      const { row, secret } = await service.createIntegration(
        workspaceOf(request),
        request.params.id,
        inputOf(request.body),
      );
      return reply.code(201).send(present(row, secret));
    },
  );

  app.post(
    '/integrations',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'body'),
      schema: {
        ...integrationTags,
        summary: 'Connect one form, or every form of the workspace (no form_id), to a connector',
        description:
          'The body of POST /forms/{id}/integrations with an optional form_id. Without it the ' +
          'integration is workspace-wide (`"form_id": null`): it fires for every form of the ' +
          'workspace, forms created later included.',
        body: s.WorkspaceIntegrationBody,
        response: { 201: s.IntegrationSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { form_id: formId, ...body } = request.body;
      const { row, secret } = await service.createIntegration(
        workspaceOf(request),
        formId ?? null,
        inputOf(body),
      );
      return reply.code(201).send(present(row, secret));
    },
  );

  app.get(
    '/integrations',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'list'),
      schema: {
        ...integrationTags,
        summary: "The workspace's integrations, of every connector and form",
        description:
          "Workspace-wide integrations included; `form_id` narrows to that form's own " +
          '(workspace-wide ones, which also fire for it, are not listed then).',
        querystring: s.IntegrationListQuery,
        response: { 200: Page(s.IntegrationSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.list(
        workspaceOf(request),
        request.query.form_id,
        undefined,
        limit + 1,
        before,
        listingForms(request, request.query.form_id),
      );
      return page(rows, limit, (row) => present(row));
    },
  );

  app.get(
    '/forms/:id/integrations',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'param'),
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
      config: scoped('integrations:read', 'integration'),
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
      config: scoped('integrations:write', 'integration'),
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
      config: scoped('integrations:write', 'integration'),
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
