import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { uuidv7 } from '../../common/index.ts';
import type { Database } from '../../db/index.ts';
import type { FormRow } from '../../forms/index.ts';
import { isTransientMailError, type ReportMailer } from './mailer.ts';
import { reportPeriod, type ReportPeriod } from './period.ts';
import * as q from './queries.ts';
import type { RenderedReport, ReportRenderer } from './renderer.ts';
import { reportSummary } from './summary.ts';

/** Waits before the 2nd, 3rd and 4th SMTP tries. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000];

export const NO_SMTP_ERROR = 'SMTP_URL is not set: scheduled reports cannot be mailed';

export interface ReportRunnerDeps {
  db: Database;
  renderer: ReportRenderer;
  /** Undefined without SMTP_URL: every run then fails with NO_SMTP_ERROR. */
  mailer: ReportMailer | undefined;
  logger: Logger;
  /** Delays between SMTP tries (default 1 s, 5 s, 30 s: four tries in all). */
  retryDelaysMs?: readonly number[];
  findForm(id: string): Promise<FormRow | undefined>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs reports on the worker: renders the file for the period, mails it with a summary,
 * and records the run (running -> succeeded | failed) with its attempts, size and error.
 */
export class ReportRunner {
  private readonly retryDelaysMs: readonly number[];

  constructor(private readonly deps: ReportRunnerDeps) {
    this.retryDelaysMs = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  /** Runs a report: the run made by the API when `runId` is given, else a new scheduled one. */
  async run(reportId: string, runId?: string): Promise<q.ReportRunRow | undefined> {
    const { db } = this.deps;
    const report = await q.findLiveReportById(db, reportId);
    const run = runId
      ? await q.findRun(db, reportId, runId)
      : report && (await this.startScheduledRun(report));
    if (!run || run.status !== 'running') return run;
    if (!report)
      return this.finish(run, {
        status: 'failed',
        attempts: 0,
        size: null,
        error: 'the report was deleted',
      });
    const form = await this.deps.findForm(report.form_id);
    if (!form)
      return this.finish(run, {
        status: 'failed',
        attempts: 0,
        size: null,
        error: 'the form was deleted',
      });
    const mailer = this.deps.mailer;
    if (!mailer)
      return this.finish(run, { status: 'failed', attempts: 0, size: null, error: NO_SMTP_ERROR });

    const period = { start: run.period_start, end: run.period_end };
    const dir = await mkdtemp(join(tmpdir(), 'formhub-report-')); // mode 0700
    try {
      let file: SpooledReport;
      try {
        const rendered = await this.deps.renderer.render(
          report.format,
          this.renderInput(report, form, period),
        );
        file = await spool(rendered, dir);
      } catch (error) {
        return this.finish(run, {
          status: 'failed',
          attempts: 0,
          size: null,
          error: `rendering failed: ${messageOf(error)}`,
        });
      }
      const count = await q.countResponses(db, form.id, period.start, period.end);
      const mail = {
        to: run.recipients,
        ...reportSummary(form.title, period, report.timezone, count),
        attachment: file.attachment,
      };
      const { attempts, error } = await this.sendWithRetries(run.id, () => mailer.send(mail));
      if (error !== undefined)
        return this.finish(run, { status: 'failed', attempts, size: file.size, error });
      await q.setLastRunAt(db, report.id, period.end);
      return this.finish(run, { status: 'succeeded', attempts, size: file.size, error: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private startScheduledRun(report: q.ScheduledReportRow): Promise<q.ReportRunRow> {
    const now = new Date();
    const period = reportPeriod(report.last_run_at, report.frequency, now);
    return q.insertRun(this.deps.db, {
      id: uuidv7(),
      reportId: report.id,
      manual: false,
      periodStart: period.start,
      periodEnd: period.end,
      recipients: report.recipients,
      now,
    });
  }

  private renderInput(report: q.ScheduledReportRow, form: FormRow, period: ReportPeriod) {
    return {
      reportId: report.id,
      workspaceId: report.workspace_id,
      form,
      period,
      filter: report.filter,
      timezone: report.timezone,
    };
  }

  /** Tries, then retries transient failures after each delay; answers the tries made and the last error. */
  private async sendWithRetries(
    runId: string,
    send: () => Promise<void>,
  ): Promise<{ attempts: number; error?: string }> {
    for (let attempt = 1; ; attempt++) {
      await q.setRunAttempts(this.deps.db, runId, attempt);
      try {
        await send();
        return { attempts: attempt };
      } catch (error) {
        const delay = this.retryDelaysMs[attempt - 1];
        this.deps.logger.warn({ runId, attempt, err: messageOf(error) }, 'report mail failed');
        if (delay === undefined || !isTransientMailError(error))
          return { attempts: attempt, error: messageOf(error) };
        await sleep(delay);
      }
    }
  }

  private async finish(
    run: q.ReportRunRow,
    outcome: Omit<q.RunOutcome, 'now'>,
  ): Promise<q.ReportRunRow | undefined> {
    await q.finishRun(this.deps.db, run.id, { ...outcome, now: new Date() });
    this.deps.logger.info(
      { runId: run.id, reportId: run.report_id, status: outcome.status },
      'report run finished',
    );
    return q.findRun(this.deps.db, run.report_id, run.id);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface SpooledReport {
  attachment: { filename: string; contentType: string; path: string };
  size: number;
}

/**
 * The rendered file written to `dir` (mode 0600): it is attached from disk, and re-sent from
 * there on a retry, so memory stays flat whatever the report's size.
 */
async function spool(rendered: RenderedReport, dir: string): Promise<SpooledReport> {
  const path = join(dir, 'report');
  const { content } = rendered;
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  await pipeline(source, createWriteStream(path, { mode: 0o600 }));
  const { size } = await stat(path);
  return {
    attachment: { filename: rendered.filename, contentType: rendered.contentType, path },
    size,
  };
}
