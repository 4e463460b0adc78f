import type { Reply, Request } from './pglite-thread-protocol.ts';

/** The main thread's side of its calls to the PGlite thread (pglite-thread-database.ts). */

/** How a bounded statement of the main thread is timed. */
export interface Watch {
  timeoutMs: number;
  signal: AbortSignal | undefined;
  startedAt?: number;
  /** The execution it started as: what the shared word holds while it runs. */
  exec?: number;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

/** What the main thread sends and waits for an answer to. */
export type CallRequest = Exclude<Request, { type: 'cancel' } | { type: 'attach' }>;

/** A request of the main thread waiting for its answer. */
export interface Call {
  request: CallRequest;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  settled: boolean;
  watch?: Watch;
}
