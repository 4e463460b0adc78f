import type { Redis } from 'ioredis';

type Listener = () => void;

/**
 * "The metrics of form X changed", across processes: published on one Redis channel (the
 * form id as message), fanned out in each process to its local listeners (SSE streams).
 * The subscribing connection is opened on first use.
 */
export class MetricsChanges {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly channel: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}an:changes`;
  }

  /**
   * Tells every process that these forms' metrics changed. Best effort: a lost message only
   * leaves a live view stale until that form's next change, so a failure is not an error.
   */
  async publish(formIds: Iterable<string>): Promise<void> {
    for (const formId of formIds)
      await this.redis.publish(this.channel, formId).catch(() => undefined);
  }

  /** Calls `listener` after each change of the form's metrics; returns the unsubscribe. */
  subscribe(formId: string, listener: Listener): () => void {
    this.ensureSubscriber();
    let set = this.listeners.get(formId);
    if (!set) this.listeners.set(formId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(formId);
    };
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private ensureSubscriber(): void {
    if (this.subscriber) return;
    const subscriber = this.redis.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    // ioredis reconnects and subscribes again by itself; publishers see the outage first.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, formId: string) => {
      for (const listener of this.listeners.get(formId) ?? []) listener();
    });
    // Queued until connected (offline queue, no retry limit): it fails only when closed.
    void subscriber.subscribe(this.channel).catch(() => undefined);
    this.subscriber = subscriber;
  }
}
