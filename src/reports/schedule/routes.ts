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
} from '../../http/index.ts';
import { presentReport, presentRun } from './present.ts';
import { CreateScheduledReportBody, ReportRunSchema, ScheduledReportSchema } from './schemas.ts';
import type { ScheduledReportService } from './service.ts';

export interface ReportRoutesOptions {
  service: ScheduledReportService;
  auth: AuthHooks;
}

const secured = { security: [{ bearerAuth: [] }], tags: ['reports'] };
const ListQuery = Type.Object(PageQuery);

/** Scheduled reports: CRUD, "run now", and the record of their runs. */
export const reportRoutes: FastifyPluginAsyncTypebox<ReportRoutesOptions> = async (
  app,
  { service, auth },
) => {
  app.post(
    '/scheduled-reports',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'body'),
      schema: {
        ...secured,
        summary: 'Schedule a report (cron, or daily/weekly/monthly at 09:00 in the timezone)',
        body: CreateScheduledReportBody,
        response: { 201: ScheduledReportSchema, ...errorResponses(401, 403, 404, 422, 503) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(presentReport(await service.create(workspaceOf(request), request.body))),
  );

  app.get(
    '/scheduled-reports',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'list'),
      schema: {
        ...secured,
        summary: "List the workspace's scheduled reports, newest first",
        querystring: ListQuery,
        response: { 200: Page(ScheduledReportSchema), ...errorResponses(400, 401, 403) },
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
      const now = new Date();
      return pageOf(
        rows,
        limit,
        (row) => ({ id: row.id }),
        (row) => presentReport(row, now),
      );
    },
  );

  app.get(
    '/scheduled-reports/:id',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'report'),
      schema: {
        ...secured,
        summary: 'Get a scheduled report',
        params: IdParams,
        response: { 200: ScheduledReportSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => presentReport(await service.get(workspaceOf(request), request.params.id)),
  );

  app.delete(
    '/scheduled-reports/:id',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'report'),
      schema: {
        ...secured,
        summary: 'Delete a scheduled report and its schedule',
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
    '/scheduled-reports/:id/run',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'report'),
      schema: {
        ...secured,
        summary: 'Run a report now; the worker renders and mails it',
        params: IdParams,
        response: { 202: ReportRunSchema, ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(presentRun(await service.runNow(workspaceOf(request), request.params.id))),
  );

  app.get(
    '/scheduled-reports/:id/runs',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'report'),
      schema: {
        ...secured,
        summary: "A report's runs, newest first",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Page(ReportRunSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const before = request.query.cursor ? decodeIdCursor(request.query.cursor) : undefined;
      const rows = await service.listRuns(
        workspaceOf(request),
        request.params.id,
        limit + 1,
        before,
      );
      return pageOf(rows, limit, (row) => ({ id: row.id }), presentRun);
    },
  );
};
