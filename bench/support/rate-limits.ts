/**
 * Rate limits for the hub under benchmark: on, as in production (so each public request pays
 * the limiter's Redis round trip, which is part of what a real request costs), but set so
 * high that no request of a benchmark can reach them: every load generator connection comes
 * from 127.0.0.1, and the defaults (3,000 per address a minute) would limit the load itself.
 * Each HTTP benchmark checks afterwards that no answer was a 429 and that the limiter counted.
 */

import { Redis } from 'ioredis';

/** The largest values the config accepts (src/config/config-schema.ts), per 1-minute window. */
export const OUT_OF_REACH_RATE_LIMITS = {
  RATE_LIMIT_PER_IP: '10000000',
  RATE_LIMIT_PER_FORM: '100000000',
} as const;

/**
 * How many requests the hub's limiter counted under `prefix` (the sum of every `rl:ip:`
 * counter still in Redis). Non-zero proves the limiter ran on the measured path.
 */
export async function rateLimitCounted(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    let total = 0;
    for (let i = 0; i < 1_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*rl:ip:*`, 'COUNT', 1000);
      for (const value of keys.length > 0 ? await redis.mget(...keys) : [])
        total += Number(value ?? 0);
      cursor = next;
      if (cursor === '0') break;
    }
    return total;
  } finally {
    redis.disconnect();
  }
}

/**
 * Throws when any answer was a 429: the limits were within reach, so the figures include
 * refused requests and are not what they claim to measure.
 */
export function assertNotLimited(what: string, tooMany: number): void {
  if (tooMany > 0)
    throw new Error(`${what}: ${tooMany} answers were 429 (rate limited); the figures are void`);
}
