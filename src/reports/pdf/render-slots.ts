/**
 * How many PDFs one process renders at a time. Rendering is CPU work on the event loop (in
 * slices, see `render-report.ts`) and each render holds fonts and a page or two of layout:
 * more at once would only share the same cores slower and add their memory. The others wait
 * their turn, in order.
 */
export const MAX_CONCURRENT_RENDERS = 2;

/** A counting semaphore: `acquire` resolves with the function that gives the slot back. */
export class RenderSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max = MAX_CONCURRENT_RENDERS) {}

  /** How many renders wait for a slot (for tests and metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  async acquire(): Promise<() => void> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next render
      else this.active -= 1;
    };
  }
}

/** The process's slots, shared by PDF exports, export jobs and scheduled reports. */
export const renderSlots = new RenderSlots();
