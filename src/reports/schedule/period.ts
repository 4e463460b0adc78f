import type { Frequency } from './schedule.ts';

const DAY_MS = 24 * 3_600_000;

/** The time range a report covers. */
export interface ReportPeriod {
  start: Date;
  end: Date;
}

/**
 * The period of a run ending `now`: since the last successful run, or, for a first run,
 * the frequency's own period (a day, a week, a calendar month) and a week for cron reports.
 */
export function reportPeriod(
  lastRunAt: Date | null,
  frequency: Frequency | null,
  now: Date,
): ReportPeriod {
  if (lastRunAt && lastRunAt < now) return { start: lastRunAt, end: now };
  const start = new Date(now);
  if (frequency === 'daily') start.setTime(now.getTime() - DAY_MS);
  else if (frequency === 'monthly') start.setUTCMonth(start.getUTCMonth() - 1);
  else start.setTime(now.getTime() - 7 * DAY_MS);
  return { start, end: now };
}
