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
  type RateLimiter,
  scoped,
  listingForms,
} from '../http/index.ts';
import { cached } from '../cache/index.ts';
import { etagMatches, presentForm, publicSchemaAnswer } from './present.ts';
import { CreateFormBody, FormSchema, PublicFormSchema, UpdateFormBody } from './schemas.ts';
import type { FormService } from './service.ts';

export interface FormRoutesOptions {
  service: FormService;
  auth: AuthHooks;
  rateLimit: RateLimiter;
}

/** Forms change only through this workspace's own writes, which start a new cache generation. */
const FORM_ROUTE_TTL_MS = 60_000;

const secured = { security: [{ bearerAuth: [] }], tags: ['forms'] };

/** CRUD on forms, and the public schema of a published form. */
export const formRoutes: FastifyPluginAsyncTypebox<FormRoutesOptions> = async (
  app,
  { service, auth, rateLimit },
) => {
  app.post(
    '/forms',
    {
      preHandler: auth.workspace,
      config: scoped('forms:write', 'workspace'),
      schema: {
        ...secured,
        summary: 'Create a form (status defaults to published)',
        body: CreateFormBody,
        response: { 201: FormSchema, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(presentForm(await service.create(workspaceOf(request), request.body))),
  );

  app.get(
    '/forms',
    {
      preHandler: auth.workspace,
      config: { ...cached({ ttl: FORM_ROUTE_TTL_MS }), ...scoped('forms:read', 'list') },
      schema: {
        ...secured,
        summary:
          "List the workspace's forms, newest first (cached per workspace; ETag, 304 on If-None-Match)",
        querystring: Type.Object(PageQuery),
        response: { 200: Page(FormSchema), 304: Type.Null(), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.list(
        workspaceOf(request),
        limit + 1,
        before,
        listingForms(request),
      );
      return pageOf(rows, limit, (row) => ({ id: row.id }), presentForm);
    },
  );

  app.get(
    '/forms/:id',
    {
      preHandler: auth.workspace,
      config: { ...cached({ ttl: FORM_ROUTE_TTL_MS }), ...scoped('forms:read', 'param') },
      schema: {
        ...secured,
        summary: 'Get a form (cached per workspace; ETag, 304 on If-None-Match)',
        params: IdParams,
        response: { 200: FormSchema, 304: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => presentForm(await service.get(workspaceOf(request), request.params.id)),
  );

  app.patch(
    '/forms/:id',
    {
      preHandler: auth.workspace,
      config: scoped('forms:write', 'param'),
      schema: {
        ...secured,
        summary: 'Change a form; bumps its version',
        params: IdParams,
        body: UpdateFormBody,
        response: { 200: FormSchema, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) =>
      presentForm(await service.update(workspaceOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/forms/:id',
    {
      preHandler: auth.workspace,
      config: scoped('forms:write', 'param'),
      schema: {
        ...secured,
        summary: 'Delete a form (its responses go with it)',
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
    '/forms/:id/schema',
    {
      config: scoped('public', 'none'),
      schema: {
        tags: ['public'],
        summary: 'The public schema of a published form, with ETag; no key needed',
        params: IdParams,
        response: { 200: PublicFormSchema, 304: Type.Null(), ...errorResponses(404, 429) },
      },
    },
    async (request, reply) => {
      await rateLimit(request.ip);
      const { body, etag } = publicSchemaAnswer(await service.getPublished(request.params.id));
      reply.header('etag', etag).header('cache-control', 'public, max-age=60, must-revalidate');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      // Bytes made once per cached row: fastify writes a Buffer as it is.
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );
};
