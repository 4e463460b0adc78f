import type { Logger } from 'pino';

/** Why a loop's tick runs. */
export type TickCause = 'start' | 'poll' | 'wake' | 'more' | 'retry';

export interface LoopOptions {
  /** How long to wait when a tick found nothing (default 200 ms); read after every tick. */
  idleMs?: number | (() => number);
  /** How long to wait after a tick threw (default 1 s). */
  errorMs?: number;
}

export interface Loop {
  /**
   * Runs a tick now instead of at the end of the idle wait. Calls during a tick are folded
   * into one more tick right after it: at most one runs and one waits, however many wakes.
   */
  wake(): void;
  /** Stops, waiting for the tick in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` again and again: at once while it reports work done, after `idleMs` when it
 * reports none, after `errorMs` when it throws, and at once when woken (`wake`). `stop`
 * waits for the tick in flight. `tick` is told why it runs (metrics of wake-ups).
 */
export function startLoop(
  name: string,
  tick: (cause: TickCause) => Promise<number>,
  logger: Logger,
  options: LoopOptions = {},
): Loop {
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let woken = false;
  let current: Promise<unknown> = Promise.resolve();
  const idleMs = () =>
    typeof options.idleMs === 'function' ? options.idleMs() : (options.idleMs ?? 200);
  const run = (cause: TickCause) => {
    timer = undefined;
    ticking = true;
    woken = false;
    current = tick(cause).then(
      (done) => {
        ticking = false;
        if (woken) schedule(0, 'wake');
        else schedule(done > 0 ? 0 : idleMs(), done > 0 ? 'more' : 'poll');
      },
      (error: Error) => {
        ticking = false;
        // A wake that came meanwhile is served by this retry: it reads everything pending.
        logger.warn({ err: error.message }, `${name} failed; retrying`);
        schedule(options.errorMs ?? 1_000, 'retry');
      },
    );
  };
  const schedule = (delayMs: number, cause: TickCause) => {
    if (!running) return;
    timer = setTimeout(() => run(cause), delayMs);
  };
  schedule(0, 'start');
  return {
    wake() {
      if (!running) return;
      if (ticking) return void (woken = true);
      clearTimeout(timer);
      run('wake');
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      // A failed run was logged above; stopping only waits for it.
      await current.catch(() => undefined);
    },
  };
}
