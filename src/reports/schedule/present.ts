import type { ReportRunRow, ScheduledReportRow } from './queries.ts';
import { nextRunAt, patternOf } from './schedule.ts';

const iso = (at: Date | null) => (at ? at.toISOString() : null);

/** A scheduled report as the API shows it, with its next firing computed now. */
export function presentReport(row: ScheduledReportRow, now = new Date()) {
  return {
    id: row.id,
    form_id: row.form_id,
    cron: row.cron,
    frequency: row.frequency,
    timezone: row.timezone,
    recipients: row.recipients,
    format: row.format,
    filter: row.filter,
    next_run_at: iso(nextRunAt(patternOf(row), row.timezone, now) ?? null),
    last_run_at: iso(row.last_run_at),
    created_at: row.created_at.toISOString(),
  };
}

/** A run of a report as the API shows it. */
export function presentRun(row: ReportRunRow) {
  return {
    id: row.id,
    report_id: row.report_id,
    status: row.status,
    manual: row.manual,
    period_start: row.period_start.toISOString(),
    period_end: row.period_end.toISOString(),
    recipients: row.recipients,
    size: row.size === null ? null : Number(row.size),
    attempts: row.attempts,
    error: row.error,
    started_at: row.started_at.toISOString(),
    finished_at: iso(row.finished_at),
  };
}
