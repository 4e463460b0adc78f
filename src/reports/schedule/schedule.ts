import { getNextMillis } from 'bullmq';

export type Frequency = 'daily' | 'weekly' | 'monthly';

/**
 * The cron pattern behind each frequency preset, read in the report's timezone:
 * daily at 09:00, weekly on Monday at 09:00, monthly on the 1st at 09:00.
 */
export const FREQUENCY_PATTERNS: Readonly<Record<Frequency, string>> = {
  daily: '0 9 * * *',
  weekly: '0 9 * * 1',
  monthly: '0 9 1 * *',
};

/** The cron pattern a report fires on: its own `cron`, else its frequency's preset. */
export function patternOf(report: { cron: string | null; frequency: Frequency | null }): string {
  if (report.cron) return report.cron;
  if (report.frequency) return FREQUENCY_PATTERNS[report.frequency];
  throw new Error('a scheduled report needs a cron or a frequency');
}

/**
 * The canonical name of an IANA timezone (`europe/berlin` -> `Europe/Berlin`), or undefined
 * when Intl does not know it.
 */
export function canonicalTimezone(timezone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * The next time a cron pattern fires after `after`, in `timezone`. Computed by BullMQ's own
 * `getNextMillis` (cron-parser underneath), so it is exactly when the job scheduler fires.
 * Throws cron-parser's error for a malformed pattern.
 *
 * @example nextRunAt('0 9 * * 1', 'Europe/Berlin', new Date('2026-10-20T00:00:00Z')) // 2026-10-26T08:00:00Z
 */
export function nextRunAt(pattern: string, timezone: string, after: Date): Date | undefined {
  const next = getNextMillis(after.getTime(), { pattern, tz: timezone });
  return next === undefined ? undefined : new Date(next);
}

/**
 * What is wrong with a cron pattern given through the API, or undefined when it is sound:
 * five fields (minute hour day-of-month month day-of-week, no seconds, so a report is
 * mailed at most once a minute) that cron-parser accepts and that fire at least once more.
 */
export function cronProblem(pattern: string): string | undefined {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5)
    return 'must have five fields: minute hour day-of-month month day-of-week';
  try {
    if (!nextRunAt(pattern, 'UTC', new Date())) return 'never fires';
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message}`;
  }
  return undefined;
}
