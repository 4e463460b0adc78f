import type { DeliveryStatus } from './queries.ts';
import { nextDelayMs } from './retry-schedule.ts';

/** How one attempt ended. */
export interface AttemptOutcome {
  kind: 'success' | 'retry' | 'permanent' | 'gone';
  statusCode: number;
  latencyMs: number;
  error: string | null;
  excerpt: string | null;
  retryAfterMs?: number | undefined;
}

/** The last HTTP exchange of an attempt, if the plugin made one. */
export interface LastExchange {
  statusCode: number;
  excerpt: string;
}

/**
 * Classifies what a plugin hook threw (by the SDK error's `name`, so plugins bundling their
 * own copy of the SDK classify the same): GoneError disables, PermanentError is dead at
 * once, anything else is retried.
 */
export function outcomeOfError(
  error: unknown,
  last: LastExchange | undefined,
  latencyMs: number,
): AttemptOutcome {
  const e = (error ?? {}) as {
    name?: string;
    message?: string;
    statusCode?: number;
    retryAfterMs?: number;
    code?: string;
  };
  const kind =
    e.name === 'GoneError' ? 'gone' : e.name === 'PermanentError' ? 'permanent' : 'retry';
  const message =
    e.code && e.message && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
  return {
    kind,
    statusCode: e.statusCode ?? last?.statusCode ?? 0,
    latencyMs,
    error: (message ?? String(error)).slice(0, 1_000),
    excerpt: last?.excerpt ?? null,
    retryAfterMs: typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined,
  };
}

export interface NextState {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /** Set when the integration must be turned off, with the reason. */
  disable: string | null;
}

/** Five days of nothing but failures turns an integration off. */
export const FAILING_DISABLE_MS = 5 * 24 * 3_600_000;

/**
 * What follows an attempt: success ends it; a retryable failure waits for the next delay
 * of the schedule (with jitter, and a 429's Retry-After honoured) or, when the schedule is
 * spent, goes dead; a permanent failure is dead at once; gone disables the integration.
 */
export function nextState(
  outcome: AttemptOutcome,
  input: {
    schedule: readonly number[];
    attemptNumber: number;
    now: Date;
    failingSince: Date | null;
    random?: () => number;
  },
): NextState {
  if (outcome.kind === 'success')
    return { status: 'succeeded', nextAttemptAt: null, disable: null };
  if (outcome.kind === 'gone') {
    return {
      status: 'dead',
      nextAttemptAt: null,
      disable: `the target answered ${outcome.statusCode || 'gone'}`,
    };
  }
  const failingFor = input.failingSince ? input.now.getTime() - input.failingSince.getTime() : 0;
  const disable = failingFor >= FAILING_DISABLE_MS ? 'every delivery failed for 5 days' : null;
  if (outcome.kind === 'permanent' || disable)
    return { status: 'dead', nextAttemptAt: null, disable };
  const delay = nextDelayMs({
    schedule: input.schedule,
    attemptNumber: input.attemptNumber,
    retryAfter:
      outcome.retryAfterMs === undefined ? null : String(Math.ceil(outcome.retryAfterMs / 1000)),
    random: input.random,
    now: input.now.getTime(),
  });
  if (delay === null) return { status: 'dead', nextAttemptAt: null, disable: null };
  return { status: 'failed', nextAttemptAt: new Date(input.now.getTime() + delay), disable: null };
}
