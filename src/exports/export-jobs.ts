import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isUuid, uuidv7 } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import { notFound } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import { assertFormatAvailable, exportBody, type RenderPdf } from './export-body.ts';
import { ExportFileSweeper } from './export-file-sweeper.ts';
import type { ExportThreadPool } from './export-thread-pool.ts';
import { exportsRateLimited, MAX_EXPORTS_PER_WORKSPACE } from './export-limits.ts';
import { parseExportRequest, type ExportParams } from './export-params.ts';
import { exportFileName } from './file-name.ts';
import { FORMAT_INFO } from './formats.ts';
import * as q from './queries.ts';

/** A running job says it is alive this often (besides after every page). */
export const HEARTBEAT_MS = 10_000;
/** A queued or running job silent for this long is taken as dead: it frees its slot and fails. */
export const STALE_JOB_MS = 60_000;

export interface ExportJobsOptions {
  db: Database;
  forms: FormService;
  /** Files go to `<dataDir>/exports/<job id>.<ext>` on this host's disk (directory 0700, files 0600). */
  dataDir: string;
  /** EXPORT_TTL: a job's file is deleted this long after it is complete. */
  ttlMs: number;
  /** QUERY_TIMEOUT: bounds each page read of a job. */
  queryTimeoutMs?: number | undefined;
  renderPdf?: RenderPdf | undefined;
  /** When given, jobs are read and formatted on these threads rather than in this one. */
  threads?: ExportThreadPool | undefined;
  /** Where a failing job or sweep is reported besides its row. */
  onError?: (error: unknown, jobId: string | undefined) => void;
}

/**
 * Export jobs: an export written to a file by an async task in this (the API) process, its
 * progress (rows written / rows counted at the start) saved after every page. At most
 * `MAX_EXPORTS_PER_WORKSPACE` jobs run at a time per workspace, counted in the database
 * (so across API processes) among jobs that heartbeat; a sweep deletes files `ttlMs` after
 * they are complete. The file lives on the disk of the API host that ran the job;
 * `download` serves it from there.
 */
export class ExportJobs {
  private readonly running = new Map<
    string,
    { controller: AbortController; done: Promise<void>; path: string }
  >();
  private readonly sweeper: ExportFileSweeper;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ExportJobsOptions) {
    this.sweeper = new ExportFileSweeper({
      db: opts.db,
      directory: this.directory,
      ttlMs: opts.ttlMs,
      staleJobMs: STALE_JOB_MS,
      inUse: () => new Set([...this.running.values()].map((job) => job.path)),
      onError: (error) => opts.onError?.(error, undefined),
    });
  }

  private get directory(): string {
    return join(this.opts.dataDir, 'exports');
  }

  /** Starts the periodic sweep of expired files and dead jobs. */
  startSweeping(): void {
    this.sweeper.start();
  }

  /**
   * Checks the parameters (400/404/422 as the direct export), takes one of the workspace's
   * slots (429 when all are taken), records the job and starts it.
   */
  async start(workspaceId: string, formId: string, params: ExportParams): Promise<q.ExportJobRow> {
    const form = await this.opts.forms.get(workspaceId, formId);
    assertFormatAvailable(params.format, this.opts.renderPdf);
    parseExportRequest(form, params);
    const extension = FORMAT_INFO[params.format].extension;
    const job = await q.insertExportJobInSlot(
      this.opts.db,
      {
        id: uuidv7(),
        workspaceId,
        formId: form.id,
        format: params.format,
        params: { ...params },
        fileName: exportFileName(form.title, new Date(), extension),
      },
      MAX_EXPORTS_PER_WORKSPACE,
      STALE_JOB_MS,
    );
    if (!job) throw exportsRateLimited('export jobs');
    const controller = new AbortController();
    const path = this.pathOf(job);
    const done = this.run(job, path, controller.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { controller, done, path });
    this.heartbeat ??= setInterval(() => this.beat(), HEARTBEAT_MS).unref();
    return job;
  }

  /** A job of the workspace, or 404 (another workspace's job is not found either). */
  async get(workspaceId: string, id: string): Promise<q.ExportJobRow> {
    const job = isUuid(id) ? await q.findExportJob(this.opts.db, workspaceId, id) : undefined;
    if (!job) throw notFound('export');
    return job;
  }

  /** Stops running jobs (they are marked failed) and the sweep, and waits for them. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.sweeper.stop();
    const jobs = [...this.running.values()];
    for (const job of jobs)
      job.controller.abort(new Error('the API process stopped during the export'));
    await Promise.allSettled(jobs.map((job) => job.done));
  }

  private beat(): void {
    if (this.running.size === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    // A missed beat is retried on the next tick; only a silence of STALE_JOB_MS frees the slot.
    q.touchExportJobs(this.opts.db, [...this.running.keys()]).catch((error: unknown) =>
      this.opts.onError?.(error, undefined),
    );
  }

  private pathOf(job: q.ExportJobRow): string {
    return join(
      this.directory,
      `${job.id}.${FORMAT_INFO[job.format as ExportParams['format']].extension}`,
    );
  }

  private async run(job: q.ExportJobRow, path: string, signal: AbortSignal): Promise<void> {
    const { db, forms } = this.opts;
    try {
      const form = await forms.get(job.workspace_id, job.form_id);
      const params = job.params as unknown as ExportParams;
      const request = parseExportRequest(form, params);
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      await chmod(this.directory, 0o700); // mkdir leaves an existing directory's mode as it was
      const total = await q.countExportRows(db.reader, request.selection);
      if (!(await q.markExportRunning(db, job.id, total, path))) return; // failed meanwhile
      const onPage = (read: number) => q.setExportProgress(db, job.id, progressOf(read, total));
      const { threads } = this.opts;
      const body = threads
        ? await threads.export(form, params, { signal, onPage })
        : await exportBody(db, request, {
            signal,
            onPage,
            renderPdf: this.opts.renderPdf,
            queryTimeoutMs: this.opts.queryTimeoutMs,
          });
      await pipeline(body, createWriteStream(path, { mode: 0o600 }), { signal });
      const { size } = await stat(path);
      if (!(await q.markExportSucceeded(db, job.id, size, this.opts.ttlMs)))
        await rm(path, { force: true }); // failed meanwhile: never served, not kept
    } catch (error) {
      this.opts.onError?.(error, job.id);
      await rm(path, { force: true });
      await q
        .markExportFailed(db, job.id, error instanceof Error ? error.message : String(error))
        .catch((failed: unknown) => {
          // The row stays 'running' and stops heartbeating: the sweep fails it after STALE_JOB_MS.
          this.opts.onError?.(failed, job.id);
        });
    }
  }
}

/** 0..99 while running (100 is only reported once the file is complete). */
export function progressOf(read: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(99, Math.floor((read * 100) / total));
}
