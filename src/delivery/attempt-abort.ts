import { EventEmitter } from 'node:events';

/**
 * The abort switch of one attempt. undici takes it as its `signal` (an EventEmitter that
 * emits `abort`), which costs a fraction of an AbortController; the real AbortSignal that
 * plugins may hand to other libraries is made only when a plugin reads `signal`, and is
 * aborted with the rest.
 */
export class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
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
    this.emit('abort');
  }
}
