/**
 * How long one step of a shutdown may wait before it is forced: closing a BullMQ queue or
 * worker, a connection pool, the HTTP server's open connections. Each of these waits on
 * something outside the process (Redis answering, a job finishing, a client reading), and
 * on a busy machine or with a stuck peer that wait has no end of its own.
 */
export const CLOSE_DEADLINE_MS = 5_000;

/**
 * Waits for `work` at most `ms`. Answers true when it settled in time (a rejection is thrown
 * as usual), false when the deadline came first: the caller then forces its way on (drops a
 * connection, stops waiting for a job) and says so. A rejection that comes after the
 * deadline is not reported again: the caller has already given up on that work and logged
 * it, and what it was doing is safe elsewhere (PostgreSQL holds every delivery and
 * response; a BullMQ job left active is found stalled and run again).
 *
 * @example
 * if (!(await finishedWithin(worker.close(), 15_000))) await worker.disconnect();
 */
export async function finishedWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    // A close that outlives its deadline must not be what keeps the process alive.
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
