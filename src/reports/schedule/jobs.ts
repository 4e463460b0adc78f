import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../../common/index.ts';
import type { Config } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { openRedis } from '../../redis/index.ts';
import { FormService } from '../../forms/index.ts';
import { BullReportScheduler, REPORT_QUEUE, reportBullPrefix } from './bull-report-scheduler.ts';
import type { ReportMailer } from './mailer.ts';
import { listAllLiveReports } from './queries.ts';
import type { ReportRenderer } from './renderer.ts';
import { ReportRunner } from './runner.ts';
import { patternOf } from './schedule.ts';
import type { ReportJob, ReportScheduler } from './scheduler.ts';
import { SmtpReportMailer } from './smtp-report-mailer.ts';

export interface ReportJobsDeps {
  db: Database;
  renderer: ReportRenderer;
  /** Defaults to SMTP through `smtp.url` (none without it: runs fail, saying so). */
  mailer?: ReportMailer;
  /** Delays between SMTP tries; default 1 s, 5 s, 30 s. */
  retryDelaysMs?: readonly number[];
  /** Runs at once (default 2). */
  concurrency?: number;
  /** The hub's; made here (and closed with the jobs) when absent. */
  forms?: FormService;
  scheduler?: ReportScheduler;
}

export interface RunningReportJobs {
  runner: ReportRunner;
  scheduler: ReportScheduler;
  close(): Promise<void>;
}

/**
 * Makes the job schedulers mirror the live reports: upserts each (idempotent) and removes
 * those of deleted reports. Answers how many are scheduled.
 */
export async function syncReportSchedules(
  db: Database,
  scheduler: ReportScheduler,
): Promise<number> {
  const reports = await listAllLiveReports(db);
  const live = new Set(reports.map((r) => r.id));
  for (const report of reports) {
    await scheduler.upsert({
      reportId: report.id,
      pattern: patternOf(report),
      timezone: report.timezone,
    });
  }
  for (const id of await scheduler.scheduledIds()) if (!live.has(id)) await scheduler.remove(id);
  return reports.length;
}

/**
 * The worker side of scheduled reports: re-upserts every schedule, then runs what the job
 * schedulers fire and what `POST .../run` queues.
 */
export async function startReportJobs(
  config: Config,
  deps: ReportJobsDeps,
  logger: Logger,
): Promise<RunningReportJobs> {
  const forms = deps.forms ?? new FormService(deps.db);
  const mailer =
    deps.mailer ??
    (config.smtp.url ? new SmtpReportMailer(config.smtp.url, config.smtp.from) : undefined);
  if (!mailer) logger.warn('SMTP_URL is not set: scheduled report runs will fail');
  const runner = new ReportRunner({
    db: deps.db,
    renderer: deps.renderer,
    mailer,
    logger,
    retryDelaysMs: deps.retryDelaysMs,
    findForm: (id) => forms.getAny(id),
  });
  const scheduler = deps.scheduler ?? new BullReportScheduler(config);
  const scheduled = await syncReportSchedules(deps.db, scheduler);
  const connection = openRedis(config.redis.url, 'blocking');
  const worker = new Worker<ReportJob>(
    REPORT_QUEUE,
    async (job) => {
      const run = await runner.run(job.data.reportId, job.data.runId);
      return run && { runId: run.id, status: run.status };
    },
    { connection, prefix: reportBullPrefix(config), concurrency: deps.concurrency ?? 2 },
  );
  worker.on('error', (error) => logger.warn({ err: error.message }, 'report worker error'));
  worker.on('failed', (job, error) =>
    logger.warn({ reportId: job?.data.reportId, err: error.message }, 'report job failed'),
  );
  logger.info({ scheduled }, 'report schedules synced');
  return {
    runner,
    scheduler,
    async close() {
      // A report in the middle of rendering is not waited for past the deadline: its job stays
      // active, is found stalled and runs again (a run is keyed by its id).
      if (!(await finishedWithin(worker.close(), CLOSE_DEADLINE_MS))) {
        logger.warn('a report job was still running at shutdown; it will run again');
        await finishedWithin(worker.disconnect(), CLOSE_DEADLINE_MS);
      }
      if (!deps.scheduler) await scheduler.close();
      connection.disconnect();
      if (!deps.mailer) mailer?.close();
    },
  };
}
