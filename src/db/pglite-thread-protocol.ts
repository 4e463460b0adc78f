import type { MessagePort } from 'node:worker_threads';

/**
 * The messages between the hub's main thread and the thread that runs its embedded PGlite
 * (pglite-thread.ts), and the word of shared memory that decides, without a race, whether a
 * statement that ran too long may be stopped by ending the thread.
 */

/** What the thread needs to start: the database folder, the socket to serve, the shared word. */
export interface ThreadInit {
  dataDir: string;
  /** The Unix socket other processes reach the database on; none when absent. */
  socket?: string | undefined;
  /** An Int32Array's buffer: EXECUTING holds the execution running (its `exec`), IDLE or HALTED. */
  state: SharedArrayBuffer;
}

/** The one Int32 slot of ThreadInit.state. */
export const EXECUTING = 0;
/** Nothing runs. */
export const IDLE = 0;
/** The main thread decided to end the thread: no statement may start or finish any more. */
export const HALTED = -1;

export type Request =
  | {
      type: 'query';
      id: number;
      sql: string;
      params: readonly unknown[] | undefined;
      /** The transaction it belongs to (the id of its `begin`); outside one when absent. */
      tx?: number | undefined;
      /** Watched: the thread says when it starts, so the main thread can time it. */
      watched: boolean;
      /**
       * How long it may run, for a watched statement that comes over an attached port (an
       * export thread's page): the thread asks the main thread to time it for that long.
       */
      timeoutMs?: number | undefined;
    }
  | { type: 'begin'; id: number }
  | { type: 'commit' | 'rollback'; id: number; tx: number }
  /** The caller left before the statement started: skip it. */
  | { type: 'cancel'; id: number }
  | { type: 'close'; id: number }
  /** LISTEN on `channel` in PGlite's session; each notification comes back as `notification`. */
  | { type: 'listen'; id: number; channel: string }
  /** Serve statements that come over `port` too (main thread only; pglite-port-database.ts). */
  | { type: 'attach'; port: MessagePort };

export type Reply =
  | { type: 'ready' }
  | { type: 'failed'; error: SerializedError }
  /** Watched statement `id` started, as execution `exec` (the id the shared word holds). */
  | { type: 'started'; id: number; exec: number }
  /** To the main thread: a port's watched statement started as `exec`; stop it after `timeoutMs`. */
  | { type: 'watch'; exec: number; timeoutMs: number }
  | { type: 'result'; id: number; rows: unknown[]; rowCount: number }
  | { type: 'done'; id: number }
  /** To the main thread: a notification on a channel it asked to `listen` on. */
  | { type: 'notification'; channel: string }
  | { type: 'error'; id: number; error: SerializedError };

/** An Error as it crosses threads: message, name and every own field (PostgreSQL's `code`...). */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

/** An error in a form the structured clone keeps whole (it drops an Error's own fields). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (['string', 'number', 'boolean'].includes(typeof value))
      fields[key] = value as string | number | boolean;
  }
  return { name: error.name, message: error.message, fields };
}

/** The error again, with PostgreSQL's fields (`code`, `constraint`, `detail`) where they were. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  return Object.assign(error, serialized.fields);
}
