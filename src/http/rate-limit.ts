import type { Redis } from 'ioredis';
import { AppError } from '../errors/index.ts';

/** Counts hits per key in fixed windows; answers the counts after this hit. */
export interface CounterStore {
  hit(keys: readonly string[], windowMs: number): Promise<number[]>;
  /** The count of `key` so far in its window, without counting a hit. */
  read(key: string): Promise<number>;
}

/** Counters in Redis, shared by every process of the hub. */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async hit(keys: readonly string[], windowMs: number): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.incr(this.prefix + key).pexpire(this.prefix + key, windowMs);
    const results = (await pipeline.exec()) ?? [];
    return keys.map((_, i) => {
      const [error, count] = results[i * 2] ?? [new Error('no reply'), 0];
      if (error) throw error;
      return Number(count);
    });
  }

  async read(key: string): Promise<number> {
    return Number((await this.redis.get(this.prefix + key)) ?? 0);
  }
}

/** Counters in this process: the fallback while Redis is unreachable. */
export class MemoryCounterStore implements CounterStore {
  private readonly counts = new Map<string, number>();
  private window = '';

  async hit(keys: readonly string[], _windowMs: number): Promise<number[]> {
    const current = keys[0]?.split(':').pop() ?? '';
    if (current !== this.window) {
      this.counts.clear();
      this.window = current;
    }
    return keys.map((key) => {
      const count = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, count);
      return count;
    });
  }

  async read(key: string): Promise<number> {
    return key.split(':').pop() === this.window ? (this.counts.get(key) ?? 0) : 0;
  }
}

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
