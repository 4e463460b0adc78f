type Listener = () => void;

/**
 * The abort switch of one attempt. undici takes it as its `signal` (it accepts any object
 * with `on`/`once`/`removeListener` that emits `abort`), which costs far less than an
 * AbortController, made for every attempt. The real AbortSignal that plugins may hand to
 * other libraries is made only when a plugin reads `signal`, and is aborted with the rest.
 */
export class AttemptAbort {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Listener[] = [];
  private controller: AbortController | undefined;

  /** An AbortSignal that follows this switch (made on first use). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown = new Error('aborted')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  // The EventEmitter surface undici uses; only `abort` is ever emitted, and only once.
  on(event: string, listener: Listener): this {
    if (event === 'abort' && !this.aborted) this.listeners.push(listener);
    return this;
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  addListener(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  removeListener(event: string, listener: Listener): this {
    if (event === 'abort') {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    }
    return this;
  }
  off(event: string, listener: Listener): this {
    return this.removeListener(event, listener);
  }
}
