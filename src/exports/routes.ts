import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ArtifactStore } from '../artifacts/index.ts';
import type { Database } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import { type AuthHooks, workspaceOf, errorResponses, IdParams, scoped } from '../http/index.ts';
import { assertFormatAvailable, exportBody, type RenderPdf } from './export-body.ts';
import { ExportSlots } from './export-limits.ts';
import { ExportJobs } from './export-jobs.ts';
import type { ExportThreadPool } from './export-thread-pool.ts';
import { parseExportRequest } from './export-params.ts';
import { contentDisposition, exportFileName } from './file-name.ts';
import { FORMAT_INFO } from './formats.ts';
import type { ExportJobRow } from './queries.ts';
import * as s from './schemas.ts';

export interface ExportRoutesOptions {
  db: Database;
  forms: FormService;
  auth: AuthHooks;
  /**
   * Export job files live in the artifact store (PostgreSQL); jobs made before it wrote
   * them to `<dataDir>/exports/`, which the sweep moves into the store.
   */
  dataDir: string;
  /** The hub's artifact store; one on `db` when absent. */
  artifacts?: ArtifactStore | undefined;
  /** EXPORT_TTL: job files are deleted this long after they are made (default 24 h). */
  ttlMs?: number | undefined;
  /** QUERY_TIMEOUT: bounds every page read of an export (none when absent). */
  queryTimeoutMs?: number | undefined;
  /**
   * HOOK for src/reports: renders `format=pdf`. Until it is passed in, pdf exports (direct
   * and as jobs) answer 422 "pdf export not available".
   */
  renderPdf?: RenderPdf | undefined;
  /**
   * The hub's export threads: when given, exports (direct and jobs) are read and formatted
   * there (export-thread-pool.ts), away from the event loop and heap of this thread;
   * otherwise in this thread, on `db`.
   */
  threads?: ExportThreadPool | undefined;
}

const secured = { security: [{ bearerAuth: [] }], tags: ['exports'] };
const FILE_DESCRIPTION = 'The file, streamed (CSV, XLSX, JSON array, NDJSON or PDF).';

/** Streamed exports of a form's responses, and export jobs with progress for large ones. */
export const exportRoutes: FastifyPluginAsyncTypebox<ExportRoutesOptions> = async (app, opts) => {
  const { db, forms, auth, renderPdf, queryTimeoutMs } = opts;
  const slots = new ExportSlots();
  const { threads } = opts;
  const jobs = new ExportJobs({
    threads,
    db,
    forms,
    dataDir: opts.dataDir,
    artifacts: opts.artifacts,
    ttlMs: opts.ttlMs ?? DEFAULT_EXPORT_TTL_MS,
    queryTimeoutMs,
    renderPdf,
    onError: (error, jobId) => app.log.warn({ err: error, jobId }, 'export job failed'),
  });
  jobs.startSweeping();
  app.addHook('onClose', () => jobs.close()); // the threads are the hub's, closed with it

  app.get(
    '/forms/:id/export',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'param'),
      schema: {
        ...secured,
        summary: 'Export live responses as a file, streamed (newest first)',
        params: IdParams,
        querystring: s.ExportQuery,
        response: {
          200: { description: FILE_DESCRIPTION },
          ...errorResponses(400, 401, 403, 404, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const form = await forms.get(workspaceOf(request), request.params.id);
      const exportRequest = parseExportRequest(form, request.query);
      assertFormatAvailable(exportRequest.format, renderPdf);
      const release = slots.acquire(form.workspace_id);
      reply.raw.once('close', release);
      let body: Awaited<ReturnType<typeof exportBody>>;
      try {
        // Everything that can be refused has been checked: from here on the body streams.
        body = threads
          ? await threads.export(form, request.query)
          : await exportBody(db, exportRequest, { renderPdf, queryTimeoutMs });
      } catch (error) {
        release();
        throw error;
      }
      body.once('close', release); // ended, failed or destroyed when the client went away
      const info = FORMAT_INFO[exportRequest.format];
      return reply
        .header('content-type', info.contentType)
        .header(
          'content-disposition',
          contentDisposition(exportFileName(form.title, new Date(), info.extension)),
        )
        .header('cache-control', 'no-store')
        .send(body);
    },
  );

  app.post(
    '/forms/:id/exports',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'param'),
      schema: {
        ...secured,
        summary: 'Start an export job (for exports too large for one request)',
        params: IdParams,
        body: s.ExportJobBody,
        response: { 202: s.ExportJobSchema, ...errorResponses(400, 401, 403, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      const job = await jobs.start(workspaceOf(request), request.params.id, request.body);
      return reply.code(202).header('location', `/api/v2/exports/${job.id}`).send(presentJob(job));
    },
  );

  app.get(
    '/exports/:id',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'export'),
      schema: {
        ...secured,
        summary: 'An export job: status, progress (0..100), download_url once succeeded',
        params: IdParams,
        response: { 200: s.ExportJobSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => presentJob(await jobs.get(workspaceOf(request), request.params.id)),
  );

  app.get(
    '/exports/:id/download',
    {
      preHandler: auth.workspace,
      config: scoped('exports', 'export'),
      schema: {
        ...secured,
        summary: "Download a finished export job's file",
        params: IdParams,
        response: { 200: { description: FILE_DESCRIPTION }, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const job = await jobs.get(workspaceOf(request), request.params.id);
      if (job.status === 'expired' || (job.status === 'succeeded' && isExpired(job)))
        throw exportExpired(job);
      if (job.status !== 'succeeded')
        throw new AppError('conflict', `the export is ${job.status}, not ready to download`);
      // From the artifact store: whichever API process ran the job.
      const file = await jobs.file(job);
      const info = FORMAT_INFO[job.format as keyof typeof FORMAT_INFO];
      if (file.etag) reply.header('etag', file.etag);
      return reply
        .header('content-type', info.contentType)
        .header(
          'content-disposition',
          contentDisposition(job.file_name ?? `export.${info.extension}`),
        )
        .header('content-length', String(file.size))
        .send(file.stream());
    },
  );
};

/** A job as the API shows it. */
export function presentJob(job: ExportJobRow) {
  return {
    id: job.id,
    form_id: job.form_id,
    format: job.format,
    status: job.status,
    progress: job.progress,
    total: job.total,
    size: job.size === null ? null : Number(job.size),
    file_name: job.file_name,
    error: job.error,
    download_url: job.status === 'succeeded' ? `/api/v2/exports/${job.id}/download` : null,
    created_at: job.created_at.toISOString(),
    finished_at: job.finished_at ? job.finished_at.toISOString() : null,
    expires_at: job.expires_at ? job.expires_at.toISOString() : null,
  };
}

/** EXPORT_TTL when the routes are not told (the configuration's default). */
const DEFAULT_EXPORT_TTL_MS = 24 * 60 * 60 * 1000;

function isExpired(job: ExportJobRow): boolean {
  return job.expires_at !== null && job.expires_at.getTime() <= Date.now();
}

/**
 * 404 `not_found` for a file deleted after EXPORT_TTL (the job itself still answers, with
 * status `expired`): the contract's codes have no 410, and a missing file is not found.
 */
function exportExpired(job: ExportJobRow): AppError {
  const at = job.expires_at ? ` at ${job.expires_at.toISOString()}` : '';
  return new AppError(
    'not_found',
    `export file expired${at}: files are deleted EXPORT_TTL after they are made`,
    [{ field: 'id', message: 'expired' }],
  );
}
