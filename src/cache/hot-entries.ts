/**
 * The entries L1 has just handed out, kept for at most `ttlMs` in a plain Map so that a hit
 * on a hot key (the public schema of a form under load, an API key) costs a Map lookup
 * instead of a trip through bentocache's machinery (its per-call options, locks and
 * events: 12.5% of the CPU of a cached schema GET). It never knows more than L1 did:
 *
 * - every drop of a key from L1, local or from the bus (another process changed it), drops
 *   it here first, and a clear of L1 clears it;
 * - an entry read from L1 while any drop happened is not kept (`epoch`), so a value loaded
 *   before a change cannot outlive it here;
 * - entries live `ttlMs` (one second), never longer than L1 would keep them.
 */
export class HotEntries {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();
  /** Bumped by every drop: a read that began before it keeps nothing. */
  private epoch = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxItems: number,
  ) {}

  /** The value of `key` if it is here and fresh. */
  get(key: string, now = Date.now()): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Where a read of L1 begins: hand it to `keep` with the value read. */
  mark(): number {
    return this.epoch;
  }

  /** Keeps `value` for `key` unless a drop happened since `mark`. */
  keep(key: string, value: unknown, mark: number, ttlMs: number, now = Date.now()): void {
    if (mark !== this.epoch || value === undefined) return;
    if (this.entries.size >= this.maxItems && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAt: now + Math.min(ttlMs, this.ttlMs) });
  }

  drop(keys: readonly string[]): void {
    this.epoch++;
    for (const key of keys) this.entries.delete(key);
  }

  clear(): void {
    this.epoch++;
    this.entries.clear();
  }
}
