import { Worker } from 'node:worker_threads';
import { deserializeError, type Reply, type ThreadInit } from './pglite-thread-protocol.ts';

/** A running pglite-thread.ts, as PgliteThreadDatabase keeps it. */
export interface Thread {
  worker: Worker;
  /** ThreadInit.state: which statement runs (pglite-thread-protocol.ts). */
  state: Int32Array;
  /** Resolves once PGlite is open (and the socket served); rejects if it never will be. */
  ready: Promise<void>;
  started: boolean;
  /** The call it was ended for (its request id), or `port` for an attached port's statement. */
  killed?: number | 'port';
}

export interface ThreadEvents {
  /** Every answer but `ready` and `failed`. */
  onReply(reply: Reply): void;
  /** The thread ended, for whatever reason (after `ready` rejected, when it never started). */
  onExit(): void;
}

/** Starts the thread that opens `init.dataDir` and serves `init.socket`. */
export function spawnThread(init: Omit<ThreadInit, 'state'>, events: ThreadEvents): Thread {
  const shared = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const workerData: ThreadInit = { dataDir: init.dataDir, socket: init.socket, state: shared };
  const worker = new Worker(new URL('./pglite-thread-boot.mjs', import.meta.url), { workerData });
  let started!: () => void;
  let failed!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  const thread: Thread = { worker, state: new Int32Array(shared), ready, started: false };
  // Observed here too: a thread restarted while no call waits must not reject unobserved.
  ready.then(() => void (thread.started = true)).catch(() => undefined);
  worker.on('message', (reply: Reply) => {
    if (reply.type === 'ready') started();
    else if (reply.type === 'failed') failed(deserializeError(reply.error));
    else events.onReply(reply);
  });
  worker.once('error', failed);
  worker.once('exit', (code) => {
    failed(new Error(`the embedded database thread exited (${code}) while starting`));
    events.onExit();
  });
  return thread;
}
