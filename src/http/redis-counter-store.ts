import type { Redis } from '../redis/index.ts';
import type { CounterStore } from './counter-store.ts';

interface PendingHit {
  keys: readonly string[];
  windowMs: number;
  resolve: (counts: number[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Counters in Redis, shared by every process of the hub.
 *
 * Hits are coalesced: every hit asked for while the event loop is in one pass (the requests
 * parsed from one poll of the sockets) goes to Redis in one pipeline at `setImmediate`, as
 * one INCRBY and one PEXPIRE per distinct key, instead of a round trip per request. The
 * counts are those consecutive INCRs would have given: if n hits of one key are in the
 * batch and Redis answers F, they get F-n+1, ..., F in the order they were asked. Under load
 * (every public request of one address counting the same key) this turns hundreds of
 * commands into two; alone, a hit waits for nothing but the end of the current pass.
 */
export class RedisCounterStore implements CounterStore {
  private pending: PendingHit[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  hit(keys: readonly string[], windowMs: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ keys, windowMs, resolve, reject }) === 1)
        setImmediate(() => this.flush());
    });
  }

  async read(key: string): Promise<number> {
    return Number((await this.redis.get(this.prefix + key)) ?? 0);
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    // Per key: how many hits, and the longest window asked (a key's window is in its name,
    // so every hit of one key asks the same one).
    const totals = new Map<string, { hits: number; windowMs: number }>();
    for (const { keys, windowMs } of batch)
      for (const key of keys) {
        const total = totals.get(key);
        if (total) {
          total.hits++;
          total.windowMs = Math.max(total.windowMs, windowMs);
        } else totals.set(key, { hits: 1, windowMs });
      }
    const pipeline = this.redis.pipeline();
    for (const [key, { hits, windowMs }] of totals)
      pipeline.incrby(this.prefix + key, hits).pexpire(this.prefix + key, windowMs);
    pipeline
      .exec()
      .then((results) => {
        // The first count each key hands out: the value before the batch, plus one.
        const next = new Map<string, number>();
        let i = 0;
        for (const [key, { hits }] of totals) {
          const [error, count] = results?.[i * 2] ?? [new Error('no reply from Redis'), 0];
          if (error) throw error;
          next.set(key, Number(count) - hits + 1);
          i++;
        }
        for (const hit of batch)
          hit.resolve(
            hit.keys.map((key) => {
              const count = next.get(key)!;
              next.set(key, count + 1);
              return count;
            }),
          );
      })
      .catch((error: unknown) => {
        for (const hit of batch) hit.reject(error);
      });
  }
}
