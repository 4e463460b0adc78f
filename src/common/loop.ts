import type { Logger } from 'pino';

/**
 * Runs `tick` again and again: at once while it reports work done, after `idleMs` when it
 * reports none, after `errorMs` when it throws. `stop` waits for the tick in flight.
 */
export function startLoop(
  name: string,
  tick: () => Promise<number>,
  logger: Logger,
  options: { idleMs?: number; errorMs?: number } = {},
): { stop(): Promise<void> } {
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const schedule = (delayMs: number) => {
    if (!running) return;
    timer = setTimeout(() => {
      current = tick().then(
        (done) => schedule(done > 0 ? 0 : (options.idleMs ?? 200)),
        (error: Error) => {
          logger.warn({ err: error.message }, `${name} failed; retrying`);
          schedule(options.errorMs ?? 1_000);
        },
      );
    }, delayMs);
  };
  schedule(0);
  return {
    async stop() {
      running = false;
      clearTimeout(timer);
      // A failed run was logged above; stopping only waits for it.
      await current.catch(() => undefined);
    },
  };
}
