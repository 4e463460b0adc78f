import { parseDuration } from '../config/index.ts';
import { validationFailed, type ErrorDetail } from '../errors/index.ts';

/** The most steps a retry schedule may have (DESIGN.md section 4a). */
export const MAX_RETRY_STEPS = 20;
/** The longest a whole retry schedule may be: 7 days. */
export const MAX_RETRY_TOTAL_MS = 7 * 86_400_000;
/** The highest rate limit, in deliveries per second (past it, a limit is no limit). */
export const MAX_PER_SECOND = 1_000_000;

/** `"retry": {"schedule": [...]}` as given, and its delays in ms. */
export interface RetryPolicy {
  schedule: string[];
  ms: number[];
}

/**
 * A retry schedule from an API body: at most 20 durations in the units of
 * WEBHOOK_RETRY_SCHEDULE (`ms`, `s`, `m`, `h`, `d`; the same parser), 7 days in all. Null
 * clears it (the hub's default applies). Problems are added to `details`, each naming its
 * field (`retry.schedule[2]`).
 *
 * @example checkRetry({ schedule: ['10s', '1m'] }, 'retry', details) // { schedule: [...], ms: [10000, 60000] }
 */
export function checkRetry(
  retry: unknown,
  field: string,
  details: ErrorDetail[],
): RetryPolicy | null {
  if (retry === null) return null;
  const schedule = (retry as { schedule?: unknown } | undefined)?.schedule;
  if (typeof retry !== 'object' || !Array.isArray(schedule)) {
    details.push({ field: `${field}.schedule`, message: 'must be a list of durations' });
    return null;
  }
  if (schedule.length > MAX_RETRY_STEPS) {
    details.push({
      field: `${field}.schedule`,
      message: `has ${schedule.length} steps; at most ${MAX_RETRY_STEPS}`,
    });
    return null;
  }
  const ms: number[] = [];
  schedule.forEach((step, i) => {
    const delay = typeof step === 'string' ? parseDuration(step) : null;
    if (delay === null) {
      details.push({
        field: `${field}.schedule[${i}]`,
        message: 'must be a duration such as "500ms", "10s", "5m", "1h" or "1d"',
      });
    } else ms.push(delay);
  });
  if (ms.length < schedule.length) return null;
  const total = ms.reduce((sum, delay) => sum + delay, 0);
  if (total > MAX_RETRY_TOTAL_MS) {
    details.push({
      field: `${field}.schedule`,
      message: `adds up to more than 7 days (${Math.round(total / 3_600_000)} h)`,
    });
    return null;
  }
  return { schedule: schedule as string[], ms };
}

/**
 * A rate limit from an API body, `{"per_second": n}` with n a whole number from 1 to
 * 1,000,000; null clears it. Answers the deliveries per second.
 */
export function checkRateLimit(
  rateLimit: unknown,
  field: string,
  details: ErrorDetail[],
): number | null {
  if (rateLimit === null) return null;
  const perSecond = (rateLimit as { per_second?: unknown } | undefined)?.per_second;
  if (
    typeof perSecond !== 'number' ||
    !Number.isInteger(perSecond) ||
    perSecond < 1 ||
    perSecond > MAX_PER_SECOND
  ) {
    details.push({
      field: `${field}.per_second`,
      message: `must be a whole number from 1 to ${MAX_PER_SECOND}`,
    });
    return null;
  }
  return perSecond;
}

/** An integration's delivery policy as stored (NULLs: the hub's defaults). */
export interface StoredPolicy {
  retry_schedule: string[] | null;
  rate_limit_per_second: number | null;
}

/** The policy as the API reads it back: as it was given, null where unset. */
export function presentPolicy(row: StoredPolicy) {
  return {
    retry: row.retry_schedule ? { schedule: row.retry_schedule } : null,
    rate_limit: row.rate_limit_per_second ? { per_second: row.rate_limit_per_second } : null,
  };
}

/** What a create or PATCH body says of the policy: undefined keeps, null clears. */
export interface PolicyInput {
  retry?: unknown;
  rate_limit?: unknown;
}

/** The columns to write: each one undefined when the body leaves it alone. */
export interface PolicyChanges {
  retry?: RetryPolicy | null;
  ratePerSecond?: number | null;
}

/** Checks a body's policy; a 422 naming each bad field. */
export function checkPolicy(input: PolicyInput): PolicyChanges {
  const details: ErrorDetail[] = [];
  const changes: PolicyChanges = {};
  if (input.retry !== undefined) changes.retry = checkRetry(input.retry, 'retry', details);
  if (input.rate_limit !== undefined)
    changes.ratePerSecond = checkRateLimit(input.rate_limit, 'rate_limit', details);
  if (details.length > 0) throw validationFailed('the delivery policy breaks the rules', details);
  return changes;
}
