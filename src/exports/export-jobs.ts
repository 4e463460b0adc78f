import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ArtifactStore, type ArtifactWriter } from '../artifacts/index.ts';
import { isUuid, uuidv7 } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import { notFound } from '../errors/index.ts';
import type { FormService } from '../forms/index.ts';
import { assertFormatAvailable, exportBody, type RenderPdf } from './export-body.ts';
import { localFile, type ExportFile } from './export-file.ts';
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
  /**
   * Where jobs made before the artifact store wrote their files (`<dataDir>/exports`): the
   * sweep moves those still on this host's disk into the store (docs/exports.md).
   */
  dataDir: string;
  /** Where job files live (src/artifacts); one on `db` when absent. */
  artifacts?: ArtifactStore | undefined;
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
 * Export jobs: an export streamed into the artifact store (PostgreSQL, src/artifacts) by an
 * async task in this (the API) process, its progress (rows written / rows counted at the
 * start) saved after every page. At most `MAX_EXPORTS_PER_WORKSPACE` jobs run at a time per
 * workspace, counted in the database (so across API processes) among jobs that heartbeat; a
 * sweep deletes files `ttlMs` after they are complete. Any API process serves any job's file.
 */
export class ExportJobs {
  readonly artifacts: ArtifactStore;
  private readonly running = new Map<
    string,
    { controller: AbortController; done: Promise<void> }
  >();
  private readonly sweeper: ExportFileSweeper;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ExportJobsOptions) {
    this.artifacts = opts.artifacts ?? new ArtifactStore({ db: opts.db });
    this.sweeper = new ExportFileSweeper({
      db: opts.db,
      artifacts: this.artifacts,
      directory: join(opts.dataDir, 'exports'),
      ttlMs: opts.ttlMs,
      staleJobMs: STALE_JOB_MS,
      onError: (error) => opts.onError?.(error, undefined),
    });
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
    const done = this.run(job, controller.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { controller, done });
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

  private async run(job: q.ExportJobRow, signal: AbortSignal): Promise<void> {
    const { db, forms } = this.opts;
    let writer: ArtifactWriter | undefined;
    try {
      const form = await forms.get(job.workspace_id, job.form_id);
      const params = job.params as unknown as ExportParams;
      const request = parseExportRequest(form, params);
      const total = await q.countExportRows(db.reader, request.selection);
      writer = await this.artifacts.create({
        workspaceId: job.workspace_id,
        kind: 'export',
        ttlMs: this.opts.ttlMs,
        // Sealed and marked succeeded in one transaction: no succeeded job without its file,
        // and a job failed meanwhile (an erasure) gets none: the bytes are discarded.
        onComplete: (tx, artifact) =>
          q.markExportSucceeded(tx, job.id, artifact.size, this.opts.ttlMs),
      });
      if (!(await q.markExportRunning(db, job.id, total, writer.id))) {
        writer.destroy(); // failed meanwhile: its artifact goes
        return;
      }
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
      await pipeline(body, writer, { signal });
    } catch (error) {
      this.opts.onError?.(error, job.id);
      writer?.destroy();
      // Cancelled: the reason (e.g. the API process stopping), not the stream's AbortError.
      const cause: unknown = signal.aborted ? signal.reason : error;
      await q
        .markExportFailed(db, job.id, cause instanceof Error ? cause.message : String(cause))
        .catch((failed: unknown) => {
          // The row stays 'running' and stops heartbeating: the sweep fails it after STALE_JOB_MS.
          this.opts.onError?.(failed, job.id);
        });
    } finally {
      // A failed or cancelled job leaves no chunks: its writer deletes them before it closes
      // (or, if the database is unreachable, its lease runs out and a sweep deletes them).
      await writer?.settled().catch((error: unknown) => this.opts.onError?.(error, job.id));
    }
  }

  /**
   * A succeeded job's file, from the store whichever process made it: its size, SHA-256 and
   * stream. 404 once the file is gone (expired, or a job made before the store whose file is
   * on another host's disk and not yet moved into the store).
   */
  async file(job: q.ExportJobRow): Promise<ExportFile> {
    if (job.artifact_id) {
      const artifact = await this.artifacts.open(job.workspace_id, job.artifact_id);
      if (!artifact) throw notFound('export file');
      return { size: artifact.size, etag: `"${artifact.sha256}"`, stream: () => artifact.stream() };
    }
    return localFile(job);
  }
}

/** 0..99 while running (100 is only reported once the file is complete). */
export function progressOf(read: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(99, Math.floor((read * 100) / total));
}
