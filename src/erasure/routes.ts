import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type AuthHooks, errorResponses, IdParams, scoped, workspaceOf } from '../http/index.ts';
import * as s from './schemas.ts';
import type { ErasureService } from './service.ts';

export interface ErasureRoutesOptions {
  service: ErasureService;
  auth: AuthHooks;
}

/** `POST /erasures` queues a hard delete of matching responses; `GET /erasures/:id` follows it. */
export const erasureRoutes: FastifyPluginAsyncTypebox<ErasureRoutesOptions> = async (
  app,
  { service, auth },
) => {
  app.post(
    '/erasures',
    {
      preHandler: auth.workspace,
      config: scoped('responses:write', 'body'),
      schema: {
        tags: ['erasures'],
        summary:
          'Hard-delete the responses a DSL filter matches, with their events, deliveries, attempt logs, idempotency records and export files (run by the worker)',
        security: [{ bearerAuth: [] }],
        body: s.CreateErasureBody,
        response: { 202: s.QueuedErasure, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const erasure = await service.create(workspaceOf(request), request.body);
      return reply.code(202).send({ id: erasure.id, status: erasure.status });
    },
  );

  app.get(
    '/erasures/:id',
    {
      preHandler: auth.workspace,
      config: scoped('responses:read', 'workspace'),
      schema: {
        tags: ['erasures'],
        summary: 'An erasure: its status and what it deleted so far, per kind',
        security: [{ bearerAuth: [] }],
        params: IdParams,
        response: { 200: s.Erasure, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => service.get(workspaceOf(request), request.params.id),
  );
};
