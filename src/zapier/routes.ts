import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { flattenResponse } from '@formhub/sdk';
import type { FormService } from '../forms/index.ts';
import {
  type AuthHooks,
  workspaceOf,
  errorResponses,
  IdParams,
  listingForms,
  scoped,
} from '../http/index.ts';
import { Condition, PolicyProperties, type IntegrationService } from '../integrations/index.ts';
import { JsonObject, presentResponse, type ResponseService } from '../responses/index.ts';
import type { WorkspaceService } from '../workspaces/index.ts';
import { zapierLookupRoutes } from './lookup-routes.ts';

export interface ZapierRoutesOptions {
  workspaces: WorkspaceService;
  forms: FormService;
  responses: ResponseService;
  integrations: IntegrationService;
  auth: AuthHooks;
}

const tags = { security: [{ bearerAuth: [] }], tags: ['zapier'] };

/** The events a Zap may subscribe to: "New Response", "Updated Response", and deletions. */
const HookEvent = Type.Union([
  Type.Literal('response.submitted'),
  Type.Literal('response.updated'),
  Type.Literal('response.deleted'),
]);

/** The REST-hook endpoints the formhub Zapier app calls (connectors/zapier/app). */
export const zapierRoutes: FastifyPluginAsyncTypebox<ZapierRoutesOptions> = async (app, opts) => {
  const { workspaces, forms, responses, integrations, auth } = opts;
  await app.register(zapierLookupRoutes, { forms, responses, auth });

  app.get(
    '/zapier/me',
    {
      preHandler: auth.workspace,
      config: scoped('any', 'none'),
      schema: {
        ...tags,
        summary: "Zapier's authentication test",
        response: {
          200: Type.Object({ workspace: Type.Object({ id: Type.String(), name: Type.String() }) }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => ({ workspace: await workspaces.getWorkspace(workspaceOf(request)) }),
  );

  app.get(
    '/zapier/forms',
    {
      preHandler: auth.workspace,
      config: scoped('forms:read', 'list'),
      schema: {
        ...tags,
        summary: 'Forms for the dynamic dropdown',
        response: {
          200: Type.Array(Type.Object({ id: Type.String(), title: Type.String() })),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) =>
      (await forms.list(workspaceOf(request), 1000, undefined, listingForms(request))).map((f) => ({
        id: f.id,
        title: f.title,
      })),
  );

  app.post(
    '/zapier/hooks',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'body'),
      schema: {
        ...tags,
        summary: 'Subscribe a Zap (performSubscribe)',
        body: Type.Object({
          target_url: Type.String({ maxLength: 2048 }),
          event: Type.Optional(HookEvent),
          form_id: Type.String(),
          condition: Type.Optional(Condition),
          ...PolicyProperties,
        }),
        response: {
          // DESIGN.md section 4: `{"id"}`, what Zapier's performSubscribe stores and sends back.
          201: Type.Object({ id: Type.String() }),
          ...errorResponses(401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { target_url: targetUrl, event, form_id: formId, condition, ...policy } = request.body;
      const { row } = await integrations.createIntegration(workspaceOf(request), formId, {
        connector: 'zapier',
        config: { target_url: targetUrl },
        events: [event ?? 'response.submitted'],
        condition,
        retry: policy.retry,
        rate_limit: policy.rate_limit,
      });
      return reply.code(201).send({ id: row.id });
    },
  );

  app.delete(
    '/zapier/hooks/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'integration'),
      schema: {
        ...tags,
        summary: 'Unsubscribe a Zap (performUnsubscribe)',
        params: IdParams,
        response: {
          200: Type.Object({ id: Type.String(), deleted: Type.Boolean() }),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => {
      await integrations.delete(workspaceOf(request), request.params.id, 'zapier');
      return { id: request.params.id, deleted: true };
    },
  );

  app.get(
    '/zapier/forms/:id/sample',
    {
      preHandler: auth.workspace,
      config: scoped('responses:read', 'param'),
      schema: {
        ...tags,
        summary: 'Recent completed responses, flat, as the hook delivers them (performList)',
        params: IdParams,
        response: { 200: Type.Array(JsonObject), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const rows = await responses.list(workspaceOf(request), request.params.id, {
        limit: 10,
        completed: true,
      });
      return rows.map((row) => flattenResponse(presentResponse(row)));
    },
  );
};
