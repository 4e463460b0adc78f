import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { errorResponses, scoped, type AuthHooks } from '../http/index.ts';
import { eventCatalog } from './catalog.ts';

export interface EventTypeRoutesOptions {
  auth: AuthHooks;
}

const EventTypeSchema = Type.Object({
  type: Type.String(),
  description: Type.String(),
  schema: Type.Unsafe<TSchema>({
    type: 'object',
    additionalProperties: true,
    description: "JSON Schema of the event's default payload",
  }),
});

/**
 * `GET /event-types`: the event catalog. It describes the hub, not a workspace, but like
 * `GET /connectors` (the other catalog) it takes a workspace key; the admin key gets 403.
 */
export const eventTypeRoutes: FastifyPluginAsyncTypebox<EventTypeRoutesOptions> = async (
  app,
  { auth },
) => {
  // Built once: the catalog is fixed for the life of the process.
  const catalog = { data: eventCatalog() };
  app.get(
    '/event-types',
    {
      preHandler: auth.workspace,
      config: scoped('any', 'none'),
      schema: {
        security: [{ bearerAuth: [] }],
        tags: ['webhooks'],
        summary: 'The events webhooks and integrations receive, with their default payloads',
        response: {
          200: Type.Object({ data: Type.Array(EventTypeSchema) }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => catalog,
  );
};
