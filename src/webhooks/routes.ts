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
  scoped,
  listingForms,
} from '../http/index.ts';
import type { IntegrationRow } from '../integrations/index.ts';
import * as s from './schemas.ts';
import type { WebhookService } from './service.ts';

export interface WebhookRoutesOptions {
  service: WebhookService;
  auth: AuthHooks;
}

const webhookTags = { security: [{ bearerAuth: [] }], tags: ['webhooks'] };

function page<T>(rows: IntegrationRow[], limit: number, present: (row: IntegrationRow) => T) {
  return pageOf(rows, limit, (row) => ({ id: row.id }), present);
}

/**
 * `/forms/:id/webhooks`, `/webhooks` (workspace-wide, or any form's) and `/webhooks/:id`:
 * signed webhooks (Webhook 2.0).
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (
  app,
  { service, auth },
) => {
  const webhook = (row: IntegrationRow, secret?: string) => service.present(row, secret);

  app.post(
    '/forms/:id/webhooks',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'param'),
      schema: {
        ...webhookTags,
        summary: 'Create a webhook; its signing secret is shown only in this answer',
        params: IdParams,
        body: s.WebhookBody,
        response: { 201: s.WebhookSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { row, secret } = await service.create(
        workspaceOf(request),
        request.params.id,
        request.body,
      );
      return reply.code(201).send(webhook(row, secret));
    },
  );

  app.post(
    '/webhooks',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'body'),
      schema: {
        ...webhookTags,
        summary: 'Create a webhook for one form, or for every form of the workspace (no form_id)',
        description:
          'The body of POST /forms/{id}/webhooks with an optional form_id. Without it the ' +
          'webhook is workspace-wide (`"form_id": null`): it fires for every form of the ' +
          'workspace, forms created later included. Its signing secret is shown only in this answer.',
        body: s.WorkspaceWebhookBody,
        response: { 201: s.WebhookSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { form_id: formId, ...body } = request.body;
      const { row, secret } = await service.create(workspaceOf(request), formId ?? null, body);
      return reply.code(201).send(webhook(row, secret));
    },
  );

  app.get(
    '/webhooks',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'list'),
      schema: {
        ...webhookTags,
        summary: "The workspace's webhooks, of every form and workspace-wide",
        description:
          "`form_id` narrows to that form's own webhooks (workspace-wide ones, which also " +
          'fire for it, are not listed then).',
        querystring: s.WebhookListQuery,
        response: { 200: Page(s.WebhookSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.list(
        workspaceOf(request),
        request.query.form_id,
        limit + 1,
        before,
        listingForms(request, request.query.form_id),
      );
      return page(rows, limit, (row) => webhook(row));
    },
  );

  app.get(
    '/forms/:id/webhooks',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'param'),
      schema: {
        ...webhookTags,
        summary: "The form's webhooks",
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: Page(s.WebhookSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.list(workspaceOf(request), request.params.id, limit + 1, before);
      return page(rows, limit, (row) => webhook(row));
    },
  );

  app.get(
    '/webhooks/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'integration'),
      schema: {
        ...webhookTags,
        summary: 'A webhook',
        params: IdParams,
        response: { 200: s.WebhookSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => webhook(await service.get(workspaceOf(request), request.params.id)),
  );

  app.patch(
    '/webhooks/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'integration'),
      schema: {
        ...webhookTags,
        summary: 'Change a webhook (url, events, template, headers, active)',
        params: IdParams,
        body: s.WebhookPatch,
        response: { 200: s.WebhookSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { events, active, condition, retry, rate_limit, ...config } = request.body;
      const patch = {
        events,
        active,
        condition,
        retry,
        rate_limit,
        config: Object.keys(config).length > 0 ? config : undefined,
      };
      return webhook(await service.update(workspaceOf(request), request.params.id, patch));
    },
  );

  app.delete(
    '/webhooks/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'integration'),
      schema: {
        ...webhookTags,
        summary: 'Delete a webhook',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.delete(workspaceOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'integration'),
      schema: {
        ...webhookTags,
        summary: 'A new signing secret (shown once); the old one also signs for 24 hours',
        params: IdParams,
        response: { 200: s.WebhookSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const workspaceId = workspaceOf(request);
      const secret = await service.rotateSecret(workspaceId, request.params.id);
      return webhook(await service.get(workspaceId, request.params.id), secret);
    },
  );
};
