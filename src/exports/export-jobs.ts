import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isUuid, uuidv7 } from '../common/ids.ts';
import type { Database } from '../db/index.ts';
import { notFound } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import { assertFormatAvailable, exportBody, type RenderPdf } from './export-body.ts';
import { parseExportRequest, type ExportParams } from './export-params.ts';
import { exportFileName } from './file-name.ts';
import { FORMAT_INFO } from './formats.ts';
import * as q from './queries.ts';

export interface ExportJobsOptions {
  db: Database;
  forms: FormService;
  /** Files go to `<dataDir>/exports/<job id>.<ext>` on this host's disk. */
  dataDir: string;
  renderPdf?: RenderPdf | undefined;
  /** Where a failing job is reported besides its row. */
  onError?: (error: unknown, jobId: string) => void;
}

/**
 * Export jobs: an export written to a file by an async task in this (the API) process, its
 * progress (rows written / rows counted at the start) saved after every page of 1,000 rows.
 * The file lives on the disk of the API host that ran the job; `download` serves it from there.
 */
export class ExportJobs {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(private readonly opts: ExportJobsOptions) {}

  /** Checks the parameters (400/404/422 as the direct export), records the job and starts it. */
  async start(workspaceId: string, formId: string, params: ExportParams): Promise<q.ExportJobRow> {
    const form = await this.opts.forms.get(workspaceId, formId);
    assertFormatAvailable(params.format, this.opts.renderPdf);
    parseExportRequest(form, params);
    const extension = FORMAT_INFO[params.format].extension;
    const job = await q.insertExportJob(this.opts.db, {
      id: uuidv7(),
      workspaceId,
      formId: form.id,
      format: params.format,
      params: { ...params },
      fileName: exportFileName(form.title, new Date(), extension),
    });
    const controller = new AbortController();
    const done = this.run(job, controller.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { controller, done });
    return job;
  }

  /** A job of the workspace, or 404 (another workspace's job is not found either). */
  async get(workspaceId: string, id: string): Promise<q.ExportJobRow> {
    const job = isUuid(id) ? await q.findExportJob(this.opts.db, workspaceId, id) : undefined;
    if (!job) throw notFound('export');
    return job;
  }

  /** Stops running jobs (they are marked failed) and waits for them. */
  async close(): Promise<void> {
    const jobs = [...this.running.values()];
    for (const job of jobs) job.controller.abort(new Error('the API process stopped during the export'));
    await Promise.allSettled(jobs.map((job) => job.done));
  }

  private async run(job: q.ExportJobRow, signal: AbortSignal): Promise<void> {
    const { db, forms, dataDir } = this.opts;
    const path = join(dataDir, 'exports', `${job.id}.${FORMAT_INFO[job.format as ExportParams['format']].extension}`);
    try {
      const form = await forms.get(job.workspace_id, job.form_id);
      const request = parseExportRequest(form, job.params as unknown as ExportParams);
      await mkdir(join(dataDir, 'exports'), { recursive: true });
      const total = await q.countExportRows(db.reader, request.selection);
      await q.markExportRunning(db, job.id, total, path);
      const onPage = (read: number) => q.setExportProgress(db, job.id, progressOf(read, total));
      const body = await exportBody(db.reader, request, { signal, onPage, renderPdf: this.opts.renderPdf });
      await pipeline(body, createWriteStream(path), { signal });
      const { size } = await stat(path);
      await q.markExportSucceeded(db, job.id, size);
    } catch (error) {
      this.opts.onError?.(error, job.id);
      await rm(path, { force: true });
      await q.markExportFailed(db, job.id, error instanceof Error ? error.message : String(error)).catch(() => undefined);
    }
  }
}

/** 0..99 while running (100 is only reported once the file is complete). */
export function progressOf(read: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(99, Math.floor((read * 100) / total));
}
