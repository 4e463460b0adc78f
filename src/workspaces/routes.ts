import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SCOPES, type Principal } from '../common/index.ts';
import {
  type AuthHooks,
  scoped,
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

/** A key's limits as they are shown: its scopes listed (all when unlimited), its forms or null. */
const limitsShown = (row: { scopes: string[] | null; form_ids: string[] | null }) => ({
  scopes: row.scopes ?? [...SCOPES],
  form_ids: row.form_ids,
});

/** The limits of the key making a request (see `escalationOf`). */
const callerOf = (principal: Principal | undefined) =>
  principal?.kind === 'workspace'
    ? { scopes: principal.scopes, formIds: principal.formIds }
    : { scopes: null, formIds: null };

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
      config: scoped('admin', 'none'),
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
      config: scoped('any', 'none'),
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
      config: scoped('keys:write', 'workspace'),
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
      config: scoped('keys:write', 'none'),
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key for this workspace; the key is shown only in this answer',
        security: [{ bearerAuth: [] }],
        body: s.CreateKeyBody,
        response: { 201: s.CreatedKey, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const { name, ...wanted } = request.body;
      const key = await service.createKey(
        workspaceOf(request),
        name,
        wanted,
        callerOf(request.principal),
      );
      return reply
        .code(201)
        .send({ ...key, created_at: key.created_at.toISOString(), ...limitsShown(key) });
    },
  );

  app.get(
    '/api-keys',
    {
      preHandler: auth.workspace,
      config: scoped('keys:write', 'none'),
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
          ...limitsShown(row),
        }),
      );
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      preHandler: auth.workspace,
      config: scoped('keys:write', 'none'),
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.revokeKey(workspaceOf(request), request.params.id, callerOf(request.principal));
      return reply.code(204).send(null);
    },
  );
};
