/**
 * A counting semaphore, first come first served. The engine uses one for outbound sends (at
 * most `size` plugin runs, i.e. HTTP requests, at once, whatever number of attempts are in
 * flight: attempts spend most of their time waiting on batched claims and log commits, and
 * hold a send slot only while they send) and the delivery worker one for attempts in flight.
 */
export class Slots {
  private used = 0;
  /** Waiters in arrival order from `head` on (a queue that never shifts the array). */
  private waiting: Array<() => void> = [];
  private head = 0;

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('size must be a positive integer');
  }

  /** Takes a slot, waiting for one if none is free; give it back with `release`. */
  acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Gives a slot back: straight to the next waiter, if any. */
  release(): void {
    if (this.head === this.waiting.length) {
      this.used--;
      return;
    }
    const next = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined as unknown as () => void;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next();
  }

  /** Runs `work` once a slot is free; the slot is given back however `work` ends. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Slots taken. */
  get inUse(): number {
    return this.used;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }
}
