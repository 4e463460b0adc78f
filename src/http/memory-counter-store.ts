import type { CounterStore } from './counter-store.ts';

/** Counters in this process: the fallback while Redis is unreachable. */
export class MemoryCounterStore implements CounterStore {
  private readonly counts = new Map<string, number>();
  private window = '';

  async hit(keys: readonly string[], _windowMs: number): Promise<number[]> {
    const current = keys[0]?.split(':').pop() ?? '';
    if (current !== this.window) {
      this.counts.clear();
      this.window = current;
    }
    return keys.map((key) => {
      const count = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, count);
      return count;
    });
  }

  async read(key: string): Promise<number> {
    return key.split(':').pop() === this.window ? (this.counts.get(key) ?? 0) : 0;
  }
}
