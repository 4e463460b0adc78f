import { isUuid, uuidv7 } from '../../common/index.ts';
import type { Database } from '../../db/index.ts';
import { AppError, notFound, validationFailed, type ErrorDetail } from '../../errors/index.ts';
import type { FormService } from '../../forms/index.ts';
import { reportPeriod } from './period.ts';
import * as q from './queries.ts';
import { canonicalTimezone, cronProblem, patternOf } from './schedule.ts';
import type { ReportScheduler } from './scheduler.ts';
import type { CreateScheduledReportInput } from './schemas.ts';

/** Scheduled reports of a workspace: stored in PostgreSQL, mirrored as job schedulers. */
export class ScheduledReportService {
  constructor(
    private readonly db: Database,
    private readonly forms: FormService,
    private readonly scheduler: ReportScheduler,
  ) {}

  async create(
    workspaceId: string,
    input: CreateScheduledReportInput,
  ): Promise<q.ScheduledReportRow> {
    const timezone = checkInput(input);
    await this.forms.get(workspaceId, input.form_id);
    const report = await q.insertReport(this.db, {
      id: uuidv7(),
      workspace_id: workspaceId,
      form_id: input.form_id,
      cron: input.cron?.trim() ?? null,
      frequency: input.frequency ?? null,
      timezone,
      recipients: [...new Set(input.recipients.map((r) => r.trim()))],
      format: input.format,
      filter: input.filter ?? null,
      now: new Date(),
    });
    try {
      await this.scheduler.upsert({ reportId: report.id, pattern: patternOf(report), timezone });
    } catch (error) {
      await q.softDeleteReport(this.db, workspaceId, report.id, new Date());
      throw new AppError(
        'unavailable',
        `the report could not be scheduled: ${(error as Error).message}`,
      );
    }
    return report;
  }

  async get(workspaceId: string, id: string): Promise<q.ScheduledReportRow> {
    const report = isUuid(id) ? await q.findReport(this.db, workspaceId, id) : undefined;
    if (!report) throw notFound('scheduled report');
    return report;
  }

  /** Newest first; `formIds` keeps to those forms' reports (a key limited to forms). */
  list(
    workspaceId: string,
    limit: number,
    beforeId?: string,
    formIds: readonly string[] | null = null,
  ): Promise<q.ScheduledReportRow[]> {
    return q.listReports(this.db.reader, workspaceId, limit, beforeId, formIds);
  }

  /** Deletes the report (its runs stay readable in the database) and its job scheduler. */
  async delete(workspaceId: string, id: string): Promise<void> {
    await this.get(workspaceId, id);
    if (!(await q.softDeleteReport(this.db, workspaceId, id, new Date())))
      throw notFound('scheduled report');
    await this.scheduler.remove(id);
  }

  /** Records a manual run for the period since the last successful run, and queues it. */
  async runNow(workspaceId: string, id: string): Promise<q.ReportRunRow> {
    const report = await this.get(workspaceId, id);
    const now = new Date();
    const period = reportPeriod(report.last_run_at, report.frequency, now);
    const run = await q.insertRun(this.db, {
      id: uuidv7(),
      reportId: report.id,
      manual: true,
      periodStart: period.start,
      periodEnd: period.end,
      recipients: report.recipients,
      now,
    });
    try {
      await this.scheduler.enqueueRun({ reportId: report.id, runId: run.id });
    } catch (error) {
      const message = `the run could not be queued: ${(error as Error).message}`;
      await q.finishRun(this.db, run.id, {
        status: 'failed',
        attempts: 0,
        size: null,
        error: message,
        now: new Date(),
      });
      throw new AppError('unavailable', message);
    }
    return run;
  }

  async listRuns(
    workspaceId: string,
    id: string,
    limit: number,
    beforeId?: string,
  ): Promise<q.ReportRunRow[]> {
    const report = await this.get(workspaceId, id);
    return q.listRuns(this.db.reader, report.id, limit, beforeId);
  }
}

/** Checks what the JSON schema cannot; answers the canonical timezone. */
function checkInput(input: CreateScheduledReportInput): string {
  const details: ErrorDetail[] = [];
  if ((input.cron === undefined) === (input.frequency === undefined)) {
    details.push({ field: 'cron', message: 'give exactly one of cron and frequency' });
  } else if (input.cron !== undefined) {
    const problem = cronProblem(input.cron);
    if (problem) details.push({ field: 'cron', message: problem });
  }
  const timezone = canonicalTimezone(input.timezone);
  if (!timezone)
    details.push({ field: 'timezone', message: 'is not an IANA timezone (e.g. Europe/Berlin)' });
  if (details.length > 0 || !timezone)
    throw validationFailed('the scheduled report is not valid', details);
  return timezone;
}
