import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { AppError, invalidRequest, validationFailed } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import {
  type AuthHooks,
  optionalWorkspaceOf,
  workspaceOf,
  clientSignal,
  pageOf,
  type RateLimiter,
  errorResponses,
  IdParams,
  Page,
  scoped,
} from '../http/index.ts';
import type { Database } from '../db/index.ts';
import { limitBytes } from './byte-limit.ts';
import { importResponses } from './import.ts';
import {
  detectImportFormat,
  ImportRowTooLargeError,
  ImportSyntaxError,
  readImportRows,
} from './import-reader.ts';
import { parseBound, parseFilter, parseProjection, parseResponseCursor } from './list-params.ts';
import { presentResponse } from './present.ts';
import * as s from './schemas.ts';
import type { ResponseService } from './service.ts';

export interface ResponseRoutesOptions {
  service: ResponseService;
  forms: FormService;
  db: Database;
  auth: AuthHooks;
  rateLimit: RateLimiter;
  importBodyLimitBytes: number;
  /** Called after an import commits (analytics recount the form). */
  afterImport?: (formId: string) => Promise<void>;
}

const secured = { security: [{ bearerAuth: [] }], tags: ['responses'] };

/** Submitting, continuing, listing, deleting and importing responses. */
export const responseRoutes: FastifyPluginAsyncTypebox<ResponseRoutesOptions> = async (
  app,
  opts,
) => {
  const { service, forms, auth, rateLimit } = opts;

  app.post(
    '/forms/:id/responses',
    {
      preHandler: auth.optional,
      config: scoped('responses:write', 'param'),
      schema: {
        tags: ['public', 'responses'],
        summary: 'Submit a response (no key needed for a published form)',
        params: IdParams,
        headers: s.SubmitHeaders,
        body: s.SubmitBody,
        response: {
          201: s.SubmittedResponseSchema,
          ...errorResponses(400, 401, 404, 409, 413, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const workspaceId = optionalWorkspaceOf(request);
      if (!workspaceId) await rateLimit(request.ip, request.params.id);
      const form = await forms.getForSubmission(request.params.id, workspaceId);
      const result = await service.submit(form, request.body, request.headers['idempotency-key']);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      // The answer as the service serialised it (with an Idempotency-Key: the stored first
      // answer, byte for byte), not serialised a second time.
      if (result.body !== undefined)
        return reply
          .code(201)
          .type('application/json; charset=utf-8')
          .send(result.body as never);
      return reply.code(201).send(result.response);
    },
  );

  app.get(
    '/forms/:id/responses',
    {
      preHandler: auth.workspace,
      config: scoped('responses:read', 'param'),
      schema: {
        ...secured,
        summary: 'List live responses, newest first',
        params: IdParams,
        querystring: s.ListQuery,
        response: { 200: Page(s.ResponseSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const query = request.query;
      const form = await forms.get(workspaceId, request.params.id);
      const where = parseFilter(form, query.filter);
      const projection = parseProjection(form, query.fields);
      const limit = query.limit ?? 50;
      const rows = await service.list(
        workspaceId,
        form.id,
        {
          limit: limit + 1,
          since: parseBound('since', query.since),
          until: parseBound('until', query.until),
          completed: query.completed,
          before: parseResponseCursor(query.cursor),
          where,
        },
        clientSignal(reply),
      );
      return pageOf(
        rows,
        limit,
        (row) => ({ t: row.submitted_at.toISOString(), id: row.id }),
        (row) => presentResponse(row, projection),
      );
    },
  );

  app.get(
    '/responses/:id',
    {
      preHandler: auth.workspace,
      config: scoped('responses:read', 'response'),
      schema: {
        ...secured,
        summary: 'Get a response',
        params: IdParams,
        response: { 200: s.ResponseSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => service.get(workspaceOf(request), request.params.id),
  );

  app.patch(
    '/responses/:id',
    {
      preHandler: auth.optional,
      config: scoped('responses:write', 'response'),
      schema: {
        tags: ['public', 'responses'],
        summary:
          'Continue a partial response (X-Resume-Token or a key): merge data, maybe complete it',
        params: IdParams,
        headers: s.PatchHeaders,
        body: s.PatchBody,
        response: { 200: s.ResponseSchema, ...errorResponses(401, 404, 409, 422, 429) },
      },
    },
    async (request) => {
      const workspaceId = optionalWorkspaceOf(request);
      if (!workspaceId) await rateLimit(request.ip);
      const token = request.headers['x-resume-token'];
      if (!workspaceId && !token)
        throw new AppError('unauthorized', 'send X-Resume-Token or an API key');
      const credential = workspaceId ? { workspaceId } : { resumeToken: token! };
      return service.patch(request.params.id, request.body, credential);
    },
  );

  app.delete(
    '/responses/:id',
    {
      preHandler: auth.workspace,
      config: scoped('responses:write', 'response'),
      schema: {
        ...secured,
        summary: 'Delete a response (soft: gone from lists, analytics and exports)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.delete(workspaceOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  await app.register(importRoute, opts);
};

/** Bulk import, in its own context: its body is streamed, not parsed up front. */
const importRoute: FastifyPluginAsyncTypebox<ResponseRoutesOptions> = async (app, opts) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { bodyLimit: opts.importBodyLimitBytes },
    (_request, payload, done) => done(null, payload),
  );
  app.post(
    '/forms/:id/responses/import',
    {
      preHandler: opts.auth.workspace,
      bodyLimit: opts.importBodyLimitBytes,
      config: scoped('responses:write', 'param'),
      schema: {
        ...secured,
        summary:
          'Import historical responses: a JSON array or NDJSON of {data, submitted_at, completed?}',
        description:
          'All or nothing: one invalid row (or one over 1 MiB) rejects the import with 422 naming the row. No events. At most 2 imports at a time per workspace (429 beyond).',
        params: IdParams,
        response: {
          201: Type.Object({ imported: Type.Integer() }),
          ...errorResponses(400, 401, 403, 404, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const form = await opts.forms.get(workspaceOf(request), request.params.id);
      const format = detectImportFormat(request.headers['content-type']);
      if (!format)
        throw new AppError(
          'unsupported_media_type',
          'send application/json (an array) or application/x-ndjson',
        );
      const body = request.body as Readable;
      try {
        // destroyOnReturn false: a refused import must still be able to answer on this socket.
        const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
        const rows = readImportRows(limitBytes(chunks, opts.importBodyLimitBytes), format);
        const imported = await importResponses(opts.db, form, rows);
        await opts.afterImport?.(form.id);
        return reply.code(201).send({ imported });
      } catch (error) {
        // The rest of a refused body (past a 1 MiB row, a 429) is read and dropped, never kept, so
        // the client gets the answer and the connection is not left stuck on unread bytes.
        if (!body.readableEnded) body.resume();
        if (error instanceof ImportRowTooLargeError) {
          throw validationFailed(error.message, [
            { field: `[${error.index}]`, message: error.message },
          ]);
        }
        if (error instanceof ImportSyntaxError) {
          throw invalidRequest(error.message, [
            { field: error.index === null ? 'body' : `[${error.index}]`, message: error.message },
          ]);
        }
        throw error;
      }
    },
  );
};
