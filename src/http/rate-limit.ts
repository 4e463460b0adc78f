import { AppError } from '../errors/index.ts';
import type { CounterStore } from './counter-store.ts';

export interface RateLimitOptions {
  perIp: number;
  perForm: number;
  windowMs: number;
}

/**
 * Fixed-window limits for the public endpoints: every public request counts against its
 * client address, and every public submission against its form (0 turns a limit off). Over a limit: 429 `rate_limited` with `Retry-After` (seconds to the next
 * window). Uses Redis, or this process's memory while Redis is down.
 */
export function createRateLimiter(
  primary: CounterStore,
  fallback: CounterStore,
  options: RateLimitOptions,
) {
  const { perIp, perForm, windowMs } = options;
  /** Counts one public request of `ip`, and when `formId` is given one submission to that form. */
  return async function limit(ip: string, formId?: string, now = Date.now()): Promise<void> {
    const countForm = formId !== undefined && perForm > 0;
    if (perIp === 0 && !countForm) return;
    const window = Math.floor(now / windowMs);
    const keys = [`rl:ip:${ip}:${window}`];
    if (countForm) keys.push(`rl:form:${formId}:${window}`);
    const [ipCount = 0, formCount = 0] = await primary
      .hit(keys, windowMs)
      .catch(() => fallback.hit(keys, windowMs));
    if ((perIp > 0 && ipCount > perIp) || (countForm && formCount > perForm)) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
      throw new AppError('rate_limited', 'too many requests; retry later', [], {
        'retry-after': String(retryAfter),
      });
    }
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * Limits failed authentications per client address (DESIGN.md section 3a): a request whose
 * key is not valid counts one failure; past `perIp` failures in a window, such requests
 * answer 429 `rate_limited` with `Retry-After` instead of 401, and a key that is not in
 * the cache is not even looked up (`check` runs before the query). A key known valid from
 * the cache still works from that address: only lookups and failures are refused.
 */
export function createUnauthorizedLimiter(
  primary: CounterStore,
  fallback: CounterStore,
  options: { perIp: number; windowMs: number },
) {
  const { perIp, windowMs } = options;
  const keyOf = (ip: string, window: number) => `rl:401:${ip}:${window}`;
  const refuse = (window: number, now: number) => {
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    return new AppError(
      'rate_limited',
      'too many requests with an invalid API key; retry later',
      [],
      {
        'retry-after': String(retryAfter),
      },
    );
  };
  return {
    /** Throws 429 when `ip` is already over its failures: call it before looking a key up. */
    async check(ip: string, now = Date.now()): Promise<void> {
      if (perIp === 0) return;
      const window = Math.floor(now / windowMs);
      const key = keyOf(ip, window);
      const count = await primary.read(key).catch(() => fallback.read(key));
      if (count >= perIp) throw refuse(window, now);
    },
    /** Counts a failure of `ip`; answers the error to send: 401 `unauthorized`, or 429 past the limit. */
    async fail(ip: string, unauthorized: AppError, now = Date.now()): Promise<AppError> {
      if (perIp === 0) return unauthorized;
      const window = Math.floor(now / windowMs);
      const keys = [keyOf(ip, window)];
      const [count = 0] = await primary
        .hit(keys, windowMs)
        .catch(() => fallback.hit(keys, windowMs));
      return count > perIp ? refuse(window, now) : unauthorized;
    },
  };
}

export type UnauthorizedLimiter = ReturnType<typeof createUnauthorizedLimiter>;
