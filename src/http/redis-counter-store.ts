import type { Redis } from '../redis/index.ts';
import type { CounterStore } from './counter-store.ts';

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
