import { performance } from 'node:perf_hooks';

/**
 * What a user would feel while a hostile request runs: the longest stall.
 *
 * In-process hubs (`startHub`, `app.inject`) share this event loop, so a blocked loop
 * shows as a late timer: `watchEventLoop` ticks every `intervalMs` and records the
 * largest gap beyond the interval. For a hub in another process, `watchHealthz` times
 * `GET /healthz` over real HTTP in a loop and records the slowest answer.
 */
export interface Watch {
  /** Stops watching; resolves the longest stall seen, in milliseconds. */
  stop(): Promise<number>;
}

/** Watches this process's event loop; see Watch. */
export function watchEventLoop(intervalMs = 5): Watch {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - intervalMs);
    last = now;
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      worst = Math.max(worst, performance.now() - last - intervalMs);
      return Math.max(0, worst);
    },
  };
}

/** Times `GET <baseUrl>/healthz` back to back until stopped; see Watch. */
export function watchHealthz(baseUrl: string): Watch {
  let running = true;
  let worst = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(120_000) });
      } catch {
        // A failed probe still measured a wait; the caller asserts on the figure.
      }
      worst = Math.max(worst, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return worst;
    },
  };
}

/** Runs `action` while `watch` measures; answers its result and the longest stall in ms. */
export async function whileWatching<T>(
  watch: Watch,
  action: () => Promise<T>,
): Promise<{ result: T; stallMs: number }> {
  try {
    const result = await action();
    return { result, stallMs: await watch.stop() };
  } catch (error) {
    await watch.stop();
    throw error;
  }
}
