import type { Redis } from 'ioredis';
import { waitUntil } from './resilience.ts';

/**
 * The channel the caches' Redis bus (bentocache) uses for a hub with REDIS_PREFIX `prefix`:
 * `bentocache.notifications:<store>`, the store being named `<prefix>cache`
 * (src/cache/tiered-caches.ts).
 */
export const busChannel = (prefix: string) => `bentocache.notifications:${prefix}cache`;

/**
 * Resolves once Redis counts `count` subscribers on the caches' bus channel of `prefix`:
 * Redis counts a subscriber when it has acknowledged its SUBSCRIBE, so an invalidation
 * published from then on reaches every one of them. This is the event a test of
 * invalidation across processes waits for, instead of a guessed sleep; the deadline is only
 * a last guard.
 */
export async function busSubscribed(
  redis: Redis,
  prefix: string,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const channel = busChannel(prefix);
  await waitUntil(
    async () => {
      const [, subscribers] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      return Number(subscribers) >= count;
    },
    timeoutMs,
    `${count} subscribers on ${channel}`,
    20,
  );
}
