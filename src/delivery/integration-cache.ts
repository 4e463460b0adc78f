import type { IntegrationRow, WorkerIntegrationRow } from '../integrations/index.ts';

/** An integration row as the worker reads it; its secrets are opened at first use, then kept. */
export interface CachedIntegration {
  row: WorkerIntegrationRow;
  opened?: OpenedIntegration;
}

/** What decrypting an integration's sealed columns gives. */
export interface OpenedIntegration {
  /** The decrypted config. Shared: hand each attempt its own copy. */
  config: Record<string, unknown>;
  /** The current signing secret. */
  secret: string | null;
  /** The previous secret, with the end of its grace period. */
  previous: { secret: string; expiresAt: Date } | null;
}

export interface IntegrationCacheOptions {
  /** How long a row read from the database is used (default 1 s). */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  at: number;
  value: Promise<CachedIntegration | undefined>;
  /** What `value` resolved to, once it has. */
  settled?: { value: CachedIntegration | undefined };
}

/**
 * The worker's short-lived copy of integration rows and their opened secrets, so that a
 * burst of deliveries to one integration reads and decrypts it once a second instead of
 * once per attempt. Concurrent misses share one read; a failed read is not kept. It is
 * not what keeps the worker current: each claim reads the row's version, and the engine
 * reads a row again (`fresh`) when its copy is not that version, so a change made through
 * the API (URL, template, secret rotation, deactivation) holds from the next claim on.
 */
export class IntegrationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly load: (id: string) => Promise<CachedIntegration | undefined>,
    options: IntegrationCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** The integration, from the cache when read less than `ttlMs` ago. */
  get(id: string): Promise<CachedIntegration | undefined> {
    const now = this.now();
    const entry = this.entries.get(id);
    if (entry && now - entry.at < this.ttlMs) return entry.value;
    return this.refresh(id, now);
  }

  /**
   * The integration without waiting, when the cache holds a fresh, settled read of it;
   * otherwise undefined (then use `get`).
   */
  peek(id: string): CachedIntegration | undefined {
    const entry = this.entries.get(id);
    if (!entry?.settled || this.now() - entry.at >= this.ttlMs) return undefined;
    return entry.settled.value;
  }

  /** Reads the integration again, or joins a read of it already under way. */
  reload(id: string): Promise<CachedIntegration | undefined> {
    const entry = this.entries.get(id);
    if (entry && !entry.settled) return entry.value;
    return this.refresh(id, this.now());
  }

  /** Reads the integration again now, whatever the cache holds. */
  fresh(id: string): Promise<CachedIntegration | undefined> {
    return this.refresh(id, this.now());
  }

  /** Changes the cached row in place after this worker wrote it (the failure clock). */
  patch(id: string, change: Partial<IntegrationRow>): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.settled = undefined;
    this.settle(
      entry,
      entry.value.then((cached) =>
        cached ? { ...cached, row: { ...cached.row, ...change } } : cached,
      ),
    );
  }

  /** Forgets an integration: its next attempt reads it again. */
  forget(id: string): void {
    this.entries.delete(id);
  }

  private refresh(id: string, now: number): Promise<CachedIntegration | undefined> {
    if (this.entries.size >= 1_000) this.evictExpired(now);
    const value = this.load(id);
    const entry: Entry = { at: now, value };
    this.entries.set(id, entry);
    this.settle(entry, value);
    value.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    return value;
  }

  /** Makes `value` the entry's, and remembers what it resolves to for `peek`. */
  private settle(entry: Entry, value: Promise<CachedIntegration | undefined>): void {
    entry.value = value;
    value.then(
      (resolved) => {
        if (entry.value === value) entry.settled = { value: resolved };
      },
      () => undefined, // the caller awaits `value` itself and sees the error
    );
  }

  private evictExpired(now: number): void {
    for (const [id, entry] of this.entries)
      if (now - entry.at >= this.ttlMs) this.entries.delete(id);
  }
}
