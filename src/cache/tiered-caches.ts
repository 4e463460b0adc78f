import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { openRedis, type Redis } from '../redis/index.ts';
import type { Registry } from 'prom-client';
import type { Caches, NamedCache, NamedCacheOptions } from './cache.ts';
import { CacheMetrics } from './cache-metrics.ts';
import { HotEntries } from './hot-entries.ts';

export interface TieredCachesOptions {
  /** The hub's shared client: commands fail fast while Redis is down, so reads fall back. */
  redis: Redis;
  redisUrl: string;
  /** Redis key prefix of this hub (REDIS_PREFIX); also names the invalidation channel. */
  prefix: string;
  l1TtlMs: number;
  l2TtlMs: number;
  l1MaxItems: number;
  /** How long a hot entry skips bentocache (default 1 s; src/cache/hot-entries.ts). */
  hotTtlMs?: number;
  registry?: Registry;
}

/** A write can race a reader that loaded the old row just before it; a second drop fixes that. */
const SECOND_INVALIDATION_MS = 500;
/** How long a hot entry skips bentocache by default. */
const HOT_TTL_MS = 1_000;
const CLOSE_TIMEOUT_MS = 2_000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * L1 (an LRU in this process) in front of L2 (Redis) in front of the loader (PostgreSQL),
 * built from two bentocache instances because the two layers keep entries for different
 * times (CACHE_L1_TTL, CACHE_L2_TTL): the L1 instance's factory reads through the L2
 * instance. bentocache gives the single flight (a lock per key), the Redis bus that drops
 * a key from every process's L1, and L2 errors that fall back to the loader.
 */
export class TieredCaches implements Caches {
  private readonly l1: BentoCache<Record<string, ReturnType<typeof bentostore>>>;
  private readonly l2: BentoCache<Record<string, ReturnType<typeof bentostore>>>;
  /** An L2 drop failed (Redis down): L2 may hold stale entries until it is cleared. */
  private l2Stale = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly onRedisReady = () => void this.clearStaleL2();
  private readonly hot: HotEntries;
  private readonly metrics: CacheMetrics;

  constructor(private readonly opts: TieredCachesOptions) {
    const metrics = new CacheMetrics(opts.registry);
    this.metrics = metrics;
    this.hot = new HotEntries(opts.hotTtlMs ?? HOT_TTL_MS, opts.l1MaxItems);
    const l1Events = metrics.emitterFor('l1');
    // Another process changed a key: bentocache drops it from L1, and it goes from the hot
    // entries before that (this listener runs first, synchronously, as the message arrives).
    l1Events.on('bus:message:received', (event: { message?: BusMessage }) => {
      const message = event.message;
      if (message?.type === 'clear' || !message?.keys) this.hot.clear();
      else this.hot.drop(message.keys);
    });
    const store = `${opts.prefix}cache`;
    // The bus duplicates this connection for publishing and subscribing. While Redis is down
    // a publish fails after one reconnection attempt (instead of waiting for Redis) and the
    // bus's retry queue sends it again later, so a write never hangs on the cache.
    const busConnection = openRedis(opts.redisUrl, 'retry-once', {
      lazyConnect: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.l1 = new BentoCache({
      default: store,
      ttl: opts.l1TtlMs,
      emitter: l1Events,
      stores: {
        [store]: bentostore()
          .useL1Layer(memoryDriver({ maxItems: opts.l1MaxItems, serialize: false }))
          .useBus(
            redisBusDriver({
              connection: busConnection,
              retryQueue: { enabled: true, maxSize: 10_000 },
            }),
          ),
      },
    });
    this.l2 = new BentoCache({
      default: store,
      ttl: opts.l2TtlMs,
      emitter: metrics.emitterFor('l2'),
      suppressL2Errors: true,
      stores: {
        [store]: bentostore().useL2Layer(redisDriver({ connection: opts.redis, prefix: store })),
      },
    });
    opts.redis.on('ready', this.onRedisReady);
  }

  named<T>(name: string, options: NamedCacheOptions<T> = {}): NamedCache<T> {
    const l1Ttl = options.l1TtlMs ?? this.opts.l1TtlMs;
    const l2Ttl = options.l2TtlMs ?? this.opts.l2TtlMs;
    const revive = options.revive ?? ((value: T) => value);
    return {
      name,
      get: async (key, load) => {
        const full = `${name}:${key}`;
        const hot = this.hot.get(full) as T | undefined;
        if (hot !== undefined) {
          this.metrics.hit(name, 'l1');
          return hot;
        }
        const mark = this.hot.mark();
        const value = await unwrapFactoryError(
          this.l1.getOrSet<T | undefined>({
            key: full,
            ttl: l1Ttl,
            skipBusNotify: true, // a fill is not a change: other processes keep their copies
            factory: async (l1) => {
              const value = await this.l2.getOrSet<T | undefined>({
                key: `${name}:${key}`,
                ttl: l2Ttl,
                factory: async (l2) => (await load()) ?? l2.skip(),
              });
              return value === undefined ? l1.skip() : revive(value);
            },
          }),
        );
        this.hot.keep(full, value, mark, l1Ttl);
        return value;
      },
      set: async (key, value, ttlMs) => {
        this.hot.drop([`${name}:${key}`]);
        await this.l2.set({ key: `${name}:${key}`, value, ttl: ttlMs ?? l2Ttl });
        await this.l1.set({
          key: `${name}:${key}`,
          value,
          ttl: ttlMs ?? l1Ttl,
          skipBusNotify: true,
        });
        // A read between the first drop and this set saw the old value: not kept either.
        this.hot.drop([`${name}:${key}`]);
      },
      invalidate: (key) => this.invalidate(`${name}:${key}`, true),
    };
  }

  async close(): Promise<void> {
    this.opts.redis.off('ready', this.onRedisReady);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    // The L2 instance's connection is the hub's shared client, closed by its owner. The bus
    // closes its own; if Redis is down that could wait, so it gets a bounded time.
    // Closing: a bus that cannot say goodbye to Redis has nothing left to deliver.
    await Promise.race([this.l1.disconnect().catch(() => undefined), delay(CLOSE_TIMEOUT_MS)]);
  }

  private async invalidate(key: string, again: boolean): Promise<void> {
    try {
      await this.l2.delete({ key, suppressL2Errors: false });
    } catch {
      this.l2Stale = true;
    }
    this.hot.drop([key]);
    await this.l1.delete({ key });
    this.hot.drop([key]);
    if (!again) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // `invalidate` records an L2 failure itself (l2Stale: cleared when Redis is back).
      this.invalidate(key, false).catch(() => undefined);
    }, SECOND_INVALIDATION_MS);
    timer.unref();
    this.timers.add(timer);
  }

  /** After an outage, drop what L2 holds: some of it may predate writes it never heard of. */
  private async clearStaleL2(): Promise<void> {
    if (!this.l2Stale) return;
    try {
      await this.l2.clear({ suppressL2Errors: false });
      this.hot.clear();
      await this.l1.clear();
      this.l2Stale = false;
    } catch {
      // still down or failing: the next 'ready' tries again
    }
  }
}

/** What bentocache's bus tells an L1 (`bus:message:received`). */
interface BusMessage {
  keys?: string[];
  type?: string;
}

async function unwrapFactoryError<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'E_FACTORY_ERROR' && (error as Error).cause) throw (error as Error).cause;
    throw error;
  }
}
