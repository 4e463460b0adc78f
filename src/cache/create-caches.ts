import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Redis } from '../redis/index.ts';
import type { Caches } from './cache.ts';
import { DisabledCaches } from './disabled-caches.ts';
import { TieredCaches } from './tiered-caches.ts';

/** The process's caches as configured: tiered, or none at all with CACHE_ENABLED=false. */
export function createCaches(config: Config, redis: Redis, registry?: Registry): Caches {
  if (!config.cache.enabled) return new DisabledCaches();
  return new TieredCaches({
    redis,
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    l1TtlMs: config.cache.l1TtlMs,
    l2TtlMs: config.cache.l2TtlMs,
    l1MaxItems: config.cache.l1MaxItems,
    registry,
  });
}
