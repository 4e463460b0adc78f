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
import type { WorkspaceService } from './service.ts';
import * as s from './schemas.ts';

export interface WorkspaceRoutesOptions {
  service: WorkspaceService;
  auth: AuthHooks;
}

/** `POST /workspaces` (admin key) and the workspace's own API keys. */
export const workspaceRoutes: FastifyPluginAsyncTypebox<WorkspaceRoutesOptions> = async (
  app,
  { service, auth },
) => {
  app.post(
    '/workspaces',
    {
      preHandler: auth.admin,
      schema: {
        tags: ['workspaces'],
        summary: 'Create a workspace and its first API key (admin key only)',
        security: [{ bearerAuth: [] }],
        body: s.CreateWorkspaceBody,
        response: { 201: s.CreatedWorkspace, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await service.createWorkspace(request.body.name)),
  );

  app.get(
    '/workspace',
    {
      preHandler: auth.workspace,
      schema: {
        tags: ['workspaces'],
        summary: "This key's workspace and its settings (retention)",
        security: [{ bearerAuth: [] }],
        response: { 200: s.WorkspaceSettings, ...errorResponses(401, 403) },
      },
    },
    async (request) => service.settings(workspaceOf(request)),
  );

  app.patch(
    '/workspace',
    {
      preHandler: auth.workspace,
      schema: {
        tags: ['workspaces'],
        summary: 'Rename the workspace or set its retention (null keeps data until deleted)',
        security: [{ bearerAuth: [] }],
        body: s.PatchWorkspaceBody,
        response: { 200: s.WorkspaceSettings, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request) => service.updateSettings(workspaceOf(request), request.body),
  );

  app.post(
    '/api-keys',
    {
      preHandler: auth.workspace,
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key for this workspace; the key is shown only in this answer',
        security: [{ bearerAuth: [] }],
        body: s.CreateKeyBody,
        response: { 201: s.CreatedKey, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const key = await service.createKey(workspaceOf(request), request.body.name);
      return reply.code(201).send({ ...key, created_at: key.created_at.toISOString() });
    },
  );

  app.get(
    '/api-keys',
    {
      preHandler: auth.workspace,
      schema: {
        tags: ['api-keys'],
        summary: "List this workspace's API keys (never the keys themselves)",
        security: [{ bearerAuth: [] }],
        querystring: Type.Object(PageQuery),
        response: { 200: Page(s.ApiKey), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.listKeys(workspaceOf(request), limit + 1, before);
      return pageOf(
        rows,
        limit,
        (row) => ({ id: row.id }),
        (row) => ({
          id: row.id,
          name: row.name,
          prefix: row.key_prefix,
          created_at: row.created_at.toISOString(),
          last_used_at: row.last_used_at?.toISOString() ?? null,
        }),
      );
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      preHandler: auth.workspace,
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.revokeKey(workspaceOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
