import { describe, expect, it } from 'vitest';
import { GoneError, PermanentError, RetryableError } from '@formhub/sdk';
import {
  FAILING_DISABLE_MS,
  nextState,
  outcomeOfError,
  type AttemptOutcome,
} from '../../src/delivery/outcome.ts';

const NOW = new Date('2024-05-01T10:00:00.000Z');
const SCHEDULE = [1_000, 5_000, 30_000] as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A fixed jitter source: +10% on every scheduled delay (the jitter is 0-20%). */
const half = () => 0.5;

function outcome(
  kind: AttemptOutcome['kind'],
  extra: Partial<AttemptOutcome> = {},
): AttemptOutcome {
  return {
    kind,
    statusCode: kind === 'success' ? 200 : 500,
    latencyMs: 12,
    error: kind === 'success' ? null : 'x',
    excerpt: null,
    ...extra,
  };
}

const state = (o: AttemptOutcome, attemptNumber: number, failingSince: Date | null = null) =>
  nextState(o, { schedule: SCHEDULE, attemptNumber, now: NOW, failingSince, random: half });

const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('nextState', () => {
  it('ends a delivery on success, whatever the attempt and the failure clock', () => {
    expect(state(outcome('success'), 1)).toEqual({
      status: 'succeeded',
      nextAttemptAt: null,
      disable: null,
    });
    expect(state(outcome('success'), 4, new Date(NOW.getTime() - 10 * DAY))).toEqual({
      status: 'succeeded',
      nextAttemptAt: null,
      disable: null,
    });
  });

  it('retries after each delay of the schedule in turn, with the jitter', () => {
    expect(state(outcome('retry'), 1)).toEqual({
      status: 'failed',
      nextAttemptAt: at(1_100),
      disable: null,
    });
    expect(state(outcome('retry'), 2)).toEqual({
      status: 'failed',
      nextAttemptAt: at(5_500),
      disable: null,
    });
    expect(state(outcome('retry'), 3)).toEqual({
      status: 'failed',
      nextAttemptAt: at(33_000),
      disable: null,
    });
  });

  it('keeps the jitter within 0-20% of the scheduled delay', () => {
    const low = nextState(outcome('retry'), {
      schedule: SCHEDULE,
      attemptNumber: 2,
      now: NOW,
      failingSince: null,
      random: () => 0,
    });
    const high = nextState(outcome('retry'), {
      schedule: SCHEDULE,
      attemptNumber: 2,
      now: NOW,
      failingSince: null,
      random: () => 0.999999,
    });
    expect(low.nextAttemptAt).toEqual(at(5_000));
    expect(high.nextAttemptAt!.getTime() - NOW.getTime()).toBeLessThanOrEqual(6_000);
    expect(high.nextAttemptAt!.getTime() - NOW.getTime()).toBeGreaterThan(5_900);
  });

  it('goes dead when the schedule is exhausted', () => {
    expect(state(outcome('retry'), 4)).toEqual({
      status: 'dead',
      nextAttemptAt: null,
      disable: null,
    });
    expect(state(outcome('retry'), 9)).toEqual({
      status: 'dead',
      nextAttemptAt: null,
      disable: null,
    });
    const none = nextState(outcome('retry'), {
      schedule: [],
      attemptNumber: 1,
      now: NOW,
      failingSince: null,
      random: half,
    });
    expect(none).toEqual({ status: 'dead', nextAttemptAt: null, disable: null });
  });

  it('a Retry-After cannot revive an exhausted schedule', () => {
    expect(state(outcome('retry', { statusCode: 429, retryAfterMs: 2_000 }), 4)).toEqual({
      status: 'dead',
      nextAttemptAt: null,
      disable: null,
    });
  });

  it('a permanent failure is dead at once, without disabling', () => {
    expect(state(outcome('permanent', { statusCode: 404 }), 1)).toEqual({
      status: 'dead',
      nextAttemptAt: null,
      disable: null,
    });
  });

  it('gone is dead at once and disables the integration, saying why', () => {
    const next = state(outcome('gone', { statusCode: 410 }), 1);
    expect(next.status).toBe('dead');
    expect(next.nextAttemptAt).toBeNull();
    expect(next.disable).toEqual(expect.any(String));
    expect(next.disable).toContain('410');
    // Even without a status code (a revoked token), it is still disabled.
    const tokenGone = state(outcome('gone', { statusCode: 0 }), 2);
    expect(tokenGone).toMatchObject({ status: 'dead', nextAttemptAt: null });
    expect(tokenGone.disable).toEqual(expect.any(String));
    expect(tokenGone.disable!.length).toBeGreaterThan(0);
  });

  it("honours a 429's Retry-After when it is longer than the scheduled delay", () => {
    const next = state(outcome('retry', { statusCode: 429, retryAfterMs: 30_000 }), 1);
    expect(next).toEqual({ status: 'failed', nextAttemptAt: at(30_000), disable: null });
  });

  it('never shortens the scheduled delay for a short Retry-After', () => {
    const next = state(outcome('retry', { statusCode: 429, retryAfterMs: 1_000 }), 2);
    expect(next.nextAttemptAt).toEqual(at(5_500));
  });

  it('caps Retry-After at one hour', () => {
    const next = state(outcome('retry', { statusCode: 429, retryAfterMs: 5 * HOUR }), 1);
    expect(next).toEqual({ status: 'failed', nextAttemptAt: at(HOUR), disable: null });
    const day = state(outcome('retry', { statusCode: 503, retryAfterMs: DAY }), 3);
    expect(day.nextAttemptAt).toEqual(at(HOUR));
  });

  it('disables an integration whose deliveries have all failed for 5 days', () => {
    expect(FAILING_DISABLE_MS).toBe(5 * DAY);
    const since = new Date(NOW.getTime() - 5 * DAY);
    const next = state(outcome('retry'), 1, since);
    expect(next.status).toBe('dead');
    expect(next.nextAttemptAt).toBeNull();
    expect(next.disable).toMatch(/5 days/);
    const longer = state(outcome('permanent'), 1, new Date(NOW.getTime() - 6 * DAY));
    expect(longer).toMatchObject({ status: 'dead', nextAttemptAt: null });
    expect(longer.disable).toMatch(/5 days/);
  });

  it('keeps retrying while the failures are younger than 5 days', () => {
    const since = new Date(NOW.getTime() - 5 * DAY + 60_000);
    expect(state(outcome('retry'), 1, since)).toEqual({
      status: 'failed',
      nextAttemptAt: at(1_100),
      disable: null,
    });
    expect(state(outcome('retry'), 1, NOW)).toEqual({
      status: 'failed',
      nextAttemptAt: at(1_100),
      disable: null,
    });
  });
});

describe('outcomeOfError', () => {
  const last = { statusCode: 502, excerpt: '<html>bad gateway</html>' };

  it('GoneError -> gone, with its 410', () => {
    const o = outcomeOfError(new GoneError('the subscription was removed'), undefined, 40);
    expect(o).toEqual({
      kind: 'gone',
      statusCode: 410,
      latencyMs: 40,
      error: 'the subscription was removed',
      excerpt: null,
      retryAfterMs: undefined,
    });
  });

  it('PermanentError -> permanent, with its status code', () => {
    const o = outcomeOfError(
      new PermanentError('channel_not_found', { statusCode: 404 }),
      undefined,
      7,
    );
    expect(o).toMatchObject({
      kind: 'permanent',
      statusCode: 404,
      latencyMs: 7,
      error: 'channel_not_found',
    });
  });

  it('RetryableError -> retry, keeping its status and Retry-After', () => {
    const o = outcomeOfError(
      new RetryableError('slow down', { statusCode: 429, retryAfterMs: 30_000 }),
      undefined,
      3,
    );
    expect(o).toMatchObject({
      kind: 'retry',
      statusCode: 429,
      error: 'slow down',
      retryAfterMs: 30_000,
    });
  });

  it('a plain Error is retried, with the status code and excerpt of the last exchange', () => {
    const o = outcomeOfError(new Error('unexpected token'), last, 99);
    expect(o).toEqual({
      kind: 'retry',
      statusCode: 502,
      latencyMs: 99,
      error: 'unexpected token',
      excerpt: '<html>bad gateway</html>',
      retryAfterMs: undefined,
    });
  });

  it("prefers the error's own status code over the last exchange's", () => {
    const o = outcomeOfError(new PermanentError('refused', { statusCode: 422 }), last, 1);
    expect(o).toMatchObject({
      kind: 'permanent',
      statusCode: 422,
      excerpt: '<html>bad gateway</html>',
    });
  });

  it('a thrown string is retried, with status 0 and the string as the error', () => {
    const o = outcomeOfError('boom', undefined, 5);
    expect(o).toEqual({
      kind: 'retry',
      statusCode: 0,
      latencyMs: 5,
      error: 'boom',
      excerpt: null,
      retryAfterMs: undefined,
    });
  });

  it('classifies by name, so a plugin bundling its own SDK copy classifies the same', () => {
    class GoneError extends Error {
      override name = 'GoneError';
    }
    class PermanentError extends Error {
      override name = 'PermanentError';
    }
    expect(outcomeOfError(new GoneError('gone'), undefined, 0).kind).toBe('gone');
    expect(outcomeOfError(new PermanentError('no'), undefined, 0).kind).toBe('permanent');
    expect(
      outcomeOfError(Object.assign(new Error('x'), { name: 'TypeError' }), undefined, 0).kind,
    ).toBe('retry');
  });

  it('a network error is status 0 and names its code', () => {
    const timeout = Object.assign(new Error('no answer within 500 ms'), { code: 'ETIMEDOUT' });
    const o = outcomeOfError(timeout, undefined, 501);
    expect(o.kind).toBe('retry');
    expect(o.statusCode).toBe(0);
    expect(o.error).toContain('ETIMEDOUT');
    expect(o.error).toContain('no answer within 500 ms');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(outcomeOfError(reset, undefined, 1).error).toBe('read ECONNRESET');
  });

  it('keeps at most 1,000 characters of the error', () => {
    const o = outcomeOfError(new Error('e'.repeat(5_000)), undefined, 0);
    expect(o.error).toHaveLength(1_000);
  });

  it('feeds nextState: a RetryableError with Retry-After is honoured end to end', () => {
    const o = outcomeOfError(
      new RetryableError('429', { statusCode: 429, retryAfterMs: 20_000 }),
      undefined,
      1,
    );
    expect(state(o, 1).nextAttemptAt).toEqual(at(20_000));
    const gone = outcomeOfError(new GoneError('bye'), undefined, 1);
    expect(state(gone, 1)).toMatchObject({
      status: 'dead',
      disable: expect.stringContaining('410'),
    });
  });
});
