import { parseRetryAfter } from '@formhub/sdk';

/** The most a `Retry-After` header may push a retry back ("honoured within reason"). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** The jitter added to each scheduled delay: 0 to +20%. */
export const JITTER_RATIO = 0.2;

export { parseRetryAfter };

/** What {@link nextDelayMs} needs. */
export interface NextDelayInput {
  /** `WEBHOOK_RETRY_SCHEDULE`: the delay before each retry, in ms. */
  schedule: readonly number[];
  /** The 1-based number of the attempt that just failed. */
  attemptNumber: number;
  /** The response's `Retry-After` header, if any. */
  retryAfter?: string | null;
  /** A source of [0, 1) for the jitter; `Math.random` by default. */
  random?: () => number;
  /** The current time in ms, for an HTTP-date `Retry-After`; `Date.now()` by default. */
  now?: number;
}

/**
 * How long to wait before retrying after attempt `attemptNumber` failed, or
 * `null` when the schedule is exhausted (the delivery is dead). The delay is
 * `schedule[attemptNumber - 1]` plus 0-20% jitter; a parseable `Retry-After`
 * can lengthen it (never shorten it) up to {@link MAX_RETRY_AFTER_MS}.
 *
 * @example nextDelayMs({ schedule: [1000, 60000], attemptNumber: 1, random: () => 0.5 }); // 1100
 * @example nextDelayMs({ schedule: [1000, 60000], attemptNumber: 3 }); // null
 */
export function nextDelayMs(input: NextDelayInput): number | null {
  const { schedule, attemptNumber, retryAfter, random = Math.random, now = Date.now() } = input;
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(`attemptNumber must be a positive integer, got ${attemptNumber}`);
  }
  const base = schedule[attemptNumber - 1];
  if (base === undefined) return null;
  const scheduled = Math.round(base * (1 + JITTER_RATIO * random()));
  const asked = parseRetryAfter(retryAfter, now);
  if (asked === null) return scheduled;
  return Math.max(scheduled, Math.min(asked, MAX_RETRY_AFTER_MS));
}
