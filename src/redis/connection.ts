import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/index.ts';

/**
 * How a connection behaves while Redis is down:
 * - `fail-fast`: commands fail at once (no offline queue, one retry) so that callers fall
 *   back: caches read PostgreSQL, counters answer from memory, and deliveries the delivery
 *   queue could not take stay in PostgreSQL for the sweeper to queue again;
 * - `retry-once`: commands wait for one reconnection, then fail (report schedules, the
 *   cache invalidation bus, whose own retry queue sends again later);
 * - `blocking`: commands wait for Redis as long as it takes, as BullMQ requires of its
 *   workers' connections (`maxRetriesPerRequest: null`).
 */
export type RedisConnectionKind = 'fail-fast' | 'retry-once' | 'blocking';

/** The options of the hub's connections, which all use ioredis's default (legacy) replies. */
type ConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

const KINDS: Record<RedisConnectionKind, ConnectionOptions> = {
  'fail-fast': {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: reconnectDelay,
  },
  'retry-once': { maxRetriesPerRequest: 1, connectTimeout: 2_000 },
  blocking: { maxRetriesPerRequest: null },
};

/**
 * Every Redis connection of the hub is opened here. `overrides` adjusts one (e.g.
 * `lazyConnect`). The connection, and any copy of it (`duplicate()`, as BullMQ and the
 * cache bus make), keeps reconnecting in the background without printing its errors: an
 * outage is reported by `/readyz` and by each caller's failed command, not once per retry.
 */
export function openRedis(
  url: string,
  kind: RedisConnectionKind,
  overrides: ConnectionOptions = {},
): Redis {
  return new QuietRedis(url, { ...KINDS[kind], ...overrides });
}

/**
 * The hub's shared client for caches, counters and rate limits (fail-fast). It connects
 * when the caller calls `connect()`, so start-up can say plainly when Redis is missing.
 */
export function createRedis(config: Config): Redis {
  return openRedis(config.redis.url, 'fail-fast', { lazyConnect: true });
}

class QuietRedis extends Redis {
  constructor(url: string, options: ConnectionOptions) {
    super(url, options);
    this.on('error', ignoreConnectionError);
  }

  override duplicate(...args: Parameters<Redis['duplicate']>): Redis {
    const copy = super.duplicate(...args);
    copy.on('error', ignoreConnectionError);
    return copy;
  }
}

/** See `openRedis`: reported through /readyz and the callers' own failed commands. */
function ignoreConnectionError(): void {}
