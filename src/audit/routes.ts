import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Queryable } from '../db/index.ts';
import {
  type AuthHooks,
  decodeIdCursor,
  errorResponses,
  Page,
  PageQuery,
  pageOf,
  Timestamp,
  workspaceOf,
  scoped,
} from '../http/index.ts';
import { listAuditEntries } from './queries.ts';

export interface AuditRoutesOptions {
  db: Queryable;
  auth: AuthHooks;
}

const AuditEntry = Type.Object({
  id: Type.String(),
  at: Timestamp,
  key: Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  address: Type.String(),
  action: Type.String(),
  resource: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
});

/** `GET /audit-log`: the workspace's changes made with its keys, newest first. */
export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (
  app,
  { db, auth },
) => {
  app.get(
    '/audit-log',
    {
      preHandler: auth.workspace,
      config: scoped('keys:write', 'workspace'),
      schema: {
        tags: ['audit-log'],
        summary: 'Every change made with a key of this workspace: who, what, when, from where',
        security: [{ bearerAuth: [] }],
        querystring: Type.Object({
          ...PageQuery,
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          action: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
        response: { 200: Page(AuditEntry), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit = 50, cursor, since, until, action } = request.query;
      const rows = await listAuditEntries(db, workspaceOf(request), {
        limit: limit + 1,
        before: cursor ? decodeIdCursor(cursor) : undefined,
        since: since ? new Date(since) : undefined,
        until: until ? new Date(until) : undefined,
        action,
      });
      return pageOf(
        rows,
        limit,
        (row) => ({ id: row.id }),
        (row) => ({
          id: row.id,
          at: row.at.toISOString(),
          key: { id: row.key_id, name: row.key_name },
          address: row.address,
          action: row.action,
          resource: { type: row.resource_type, id: row.resource_id },
        }),
      );
    },
  );
};
