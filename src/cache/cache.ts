/**
 * The cache contract. A named cache holds one kind of read-mostly object (forms, API keys,
 * route answers) in layers: L1 in each process, L2 in Redis, and behind them PostgreSQL,
 * reached through the loader a caller passes. Implementations: `TieredCaches` (bentocache)
 * and `DisabledCaches` (CACHE_ENABLED=false: every read goes to the loader).
 */
export interface NamedCache<T> {
  readonly name: string;
  /**
   * The value for `key`: from L1, else L2, else `load()`. Concurrent misses for one key in a
   * process share one `load()`. An `undefined` from `load()` is returned and not stored.
   * Never fails because Redis is down: it then reads L1 and the loader.
   */
  get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /** Stores a value computed elsewhere (e.g. a route's answer) in L1 and L2, for `ttlMs` if given. */
  set(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Drops `key` from L2 and from L1 in every process (through the Redis bus). */
  invalidate(key: string): Promise<void>;
}

export interface NamedCacheOptions<T> {
  /**
   * Turns a value read back from L2 (JSON) into a `T` again, e.g. ISO strings into Dates.
   * Must accept a `T` as well and return it unchanged in meaning.
   */
  revive?: (value: T) => T;
  /** Overrides the configured L1/L2 lifetimes for this cache, in ms. */
  l1TtlMs?: number;
  l2TtlMs?: number;
}

/** The caches of one process. */
export interface Caches {
  named<T>(name: string, options?: NamedCacheOptions<T>): NamedCache<T>;
  close(): Promise<void>;
}
