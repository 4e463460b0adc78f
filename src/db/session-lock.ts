/**
 * A first-come, first-served mutex over the embedded database's one session. The hub's own
 * queries and transactions take it for their duration; a client of the embedded server takes
 * it from its first message until it is idle again (outside any transaction), so no
 * statement of one ever runs inside the other's transaction.
 */
export class SessionLock {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with the function that releases the lock, once every earlier holder has. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const turn = this.tail.then(() => release);
    this.tail = this.tail.then(() => released);
    return turn;
  }

  /** Runs `fn` holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
