import { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';

export type { Redis } from 'ioredis';

/**
 * A Redis client for caches, counters and rate limits. Commands fail fast while Redis
 * is down (no offline queue) so that callers fall back instead of waiting; the client
 * keeps reconnecting in the background.
 */
export function createRedis(config: Config): Redis {
  const client = new Redis(config.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  client.on('error', () => undefined); // reported through /readyz and callers' fallbacks
  return client;
}

/** Resolves when Redis answers PING within `timeoutMs`; rejects with the reason otherwise. */
export async function checkRedis(url: string, timeoutMs = 3_000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } finally {
    probe.disconnect();
  }
}

/** Where Redis is, for messages: the URL without its password. */
export function describeRedis(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
