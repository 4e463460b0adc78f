import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  type AuthHooks,
  decodeIdCursor,
  decodeTimeCursor,
  errorResponses,
  IdParams,
  Page,
  PageQuery,
  pageOf,
  scoped,
  workspaceOf,
} from '../http/index.ts';
import { Type } from 'typebox';
import { ChannelBody, ChannelSchema, OperationalEventSchema } from './schemas.ts';
import { presentChannel, type NotificationService } from './service.ts';

export interface NotificationRoutesOptions {
  service: NotificationService;
  auth: AuthHooks;
}

const channelTags = { security: [{ bearerAuth: [] }], tags: ['notifications'] };

/**
 * `/notification-channels` (create, list, get, delete) and `/operational-events` (what was
 * sent to them, newest first): DESIGN.md section 4b.
 */
export const notificationRoutes: FastifyPluginAsyncTypebox<NotificationRoutesOptions> = async (
  app,
  { service, auth },
) => {
  app.post(
    '/notification-channels',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'workspace'),
      schema: {
        ...channelTags,
        summary: 'Create a notification channel for operational events',
        description:
          'kind email (target: an address; needs SMTP_URL), webhook (target: an http(s) URL; ' +
          'its signing secret is shown only in this answer) or slack (target: a channel name ' +
          'or id; config.token: the bot token, stored encrypted and never answered).',
        body: ChannelBody,
        response: { 201: ChannelSchema, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const { row, secret } = await service.create(workspaceOf(request), request.body);
      return reply.code(201).send(presentChannel(row, secret));
    },
  );

  app.get(
    '/notification-channels',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'workspace'),
      schema: {
        ...channelTags,
        summary: 'The workspace’s notification channels, newest first',
        querystring: Type.Object(PageQuery),
        response: { 200: Page(ChannelSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit = 50, cursor } = request.query;
      const before = cursor ? decodeIdCursor(cursor) : undefined;
      const rows = await service.list(workspaceOf(request), limit + 1, before);
      return pageOf(
        rows,
        limit,
        (row) => ({ id: row.id }),
        (row) => presentChannel(row),
      );
    },
  );

  app.get(
    '/notification-channels/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'workspace'),
      schema: {
        ...channelTags,
        summary: 'One notification channel',
        params: IdParams,
        response: { 200: ChannelSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => presentChannel(await service.get(workspaceOf(request), request.params.id)),
  );

  app.delete(
    '/notification-channels/:id',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:write', 'workspace'),
      schema: {
        ...channelTags,
        summary: 'Delete a notification channel (its pending sends are dropped)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.delete(workspaceOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/operational-events',
    {
      preHandler: auth.workspace,
      config: scoped('integrations:read', 'workspace'),
      schema: {
        ...channelTags,
        summary: 'Recent operational events of the workspace, newest first, with their sends',
        querystring: Type.Object(PageQuery),
        response: { 200: Page(OperationalEventSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit = 50, cursor } = request.query;
      const before = cursor ? decodeTimeCursor(cursor) : undefined;
      const rows = await service.events(workspaceOf(request), limit + 1, before);
      return pageOf(
        rows,
        limit,
        ({ row }) => ({ t: row.created_at.toISOString(), id: row.id }),
        ({ event }) => event,
      );
    },
  );
};
