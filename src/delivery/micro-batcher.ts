export interface MicroBatcherOptions {
  /** A batch is flushed as soon as it holds this many items. */
  maxSize: number;
  /**
   * While a batch is in flight, the next one waits for it to finish, or at most this long
   * after its first item arrived. With nothing in flight, items are sent at the end of the
   * event-loop turn in which they arrived (setImmediate).
   */
  maxWaitMs: number;
  /**
   * When a batch of several items fails, run each item again on its own, so that one bad
   * item costs only its own caller (default true). Off for work that must not run twice.
   */
  retrySingly?: boolean;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups calls that arrive close together into one call of `run` (one SQL statement, one
 * commit), while each caller still awaits its own result. Like a database's group commit:
 * what arrives while a batch is in flight goes in the next one, which starts when the
 * first finishes (or after `maxWaitMs`, or when full), so a busy caller gets large batches
 * and an idle one waits no more than an event-loop turn. `run` gets the items in arrival
 * order and must answer one result per item, in the same order. A failed batch rejects
 * every caller with its error, unless `retrySingly`, which gives each caller the outcome of
 * its own item run alone.
 */
export class MicroBatcher<I, O> {
  private pending: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: MicroBatcherOptions,
  ) {
    if (options.maxSize < 1) throw new RangeError('maxSize must be at least 1');
  }

  /** Adds an item to the next batch; resolves with its own result once that batch has run. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxSize) this.flush();
      else if (this.inFlight.size === 0) this.immediate ??= setImmediate(() => this.flush());
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  /** Items waiting for their batch to start. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Runs what is waiting now, and resolves when every batch started so far has finished. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const done = this.execute(batch).finally(() => {
      this.inFlight.delete(done);
      // What gathered meanwhile goes now (the next batch waited for this one).
      if (this.inFlight.size === 0 && this.pending.length > 0) this.flush();
    });
    this.inFlight.add(done);
  }

  private async execute(batch: Pending<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.run(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} answered ${results.length} results`);
      }
    } catch (error) {
      if (batch.length > 1 && this.options.retrySingly !== false) {
        await Promise.all(batch.map((p) => this.execute([p])));
      } else {
        for (const p of batch) p.reject(error);
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }
}
