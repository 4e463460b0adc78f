/** Counts hits per key in fixed windows; answers the counts after this hit. */
export interface CounterStore {
  hit(keys: readonly string[], windowMs: number): Promise<number[]>;
  /** The count of `key` so far in its window, without counting a hit. */
  read(key: string): Promise<number>;
}
