import type { Caches, NamedCache } from './cache.ts';

/** CACHE_ENABLED=false: no layer at all, every read is the loader's (PostgreSQL). */
export class DisabledCaches implements Caches {
  named<T>(name: string): NamedCache<T> {
    return {
      name,
      get: (_key, load) => load(),
      set: async () => undefined,
      invalidate: async () => undefined,
    };
  }

  async close(): Promise<void> {}
}
