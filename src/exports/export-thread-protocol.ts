import type { MessagePort } from 'node:worker_threads';
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetail } from '../errors/index.ts';
import type { FormRow } from '../forms/index.ts';
import type { ExportParams } from './export-params.ts';

/**
 * The messages between the hub's main thread and an export thread (export-thread.ts). The
 * thread reads the database and formats the file; the main thread only moves its bytes.
 * Backpressure is by credit: the thread sends one chunk per `pull`, and the main side pulls
 * only when its own reader (the HTTP response, the job file) wants more.
 */

/** What a thread needs to start (its `workerData`). */
export interface ExportThreadInit {
  /**
   * DATABASE_URL: the thread opens a pool of its own on it. Absent on the embedded database,
   * where each export brings a port to the PGlite thread instead (`start`'s `port`).
   */
  databaseUrl?: string | undefined;
  /** QUERY_TIMEOUT: bounds every page read. */
  queryTimeoutMs?: number | undefined;
  /** Whether `format=pdf` is wired in (the hub's reports module is present). */
  pdf: boolean;
}

export type ToThread =
  /** Start export `id`: the form and the parameters as sent (the thread parses them again). */
  | {
      type: 'start';
      id: number;
      form: FormRow;
      params: ExportParams;
      /** On the embedded database: this export's way to it (PgliteThreadDatabase.openPort). */
      port?: MessagePort | undefined;
    }
  /** Send the next chunk of export `id`. */
  | { type: 'pull'; id: number }
  /** The reader left (client gone, job cancelled): stop reading and drop export `id`. */
  | { type: 'cancel'; id: number };

export type FromThread =
  | { type: 'ready' }
  /** Export `id`'s body is made (its PDF summary read): from here on its bytes stream. */
  | { type: 'started'; id: number }
  /** Bytes of export `id`, in an ArrayBuffer transferred (not copied) to the main thread. */
  | { type: 'chunk'; id: number; bytes: ArrayBuffer }
  /** A page was read: `rowsRead` rows so far (for a job's progress). */
  | { type: 'progress'; id: number; rowsRead: number }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; error: SerializedAppError };

/** An error as it crosses threads: an AppError keeps its code, message and details. */
export interface SerializedAppError {
  message: string;
  code?: ErrorCode | undefined;
  details?: ErrorDetail[] | undefined;
  headers?: Record<string, string> | undefined;
}

/** The error in a form the structured clone keeps whole (it drops an Error's own fields). */
export function serializeAppError(error: unknown): SerializedAppError {
  if (error instanceof AppError) {
    const { message, code, details, headers } = error;
    return { message, code, details: [...details], headers: { ...headers } };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/** An AppError again (with its code, hence its status), or a plain Error (a 500). */
export function deserializeAppError(serialized: SerializedAppError): Error {
  const { code, message } = serialized;
  if (code !== undefined && code in ERROR_STATUS)
    return new AppError(code, message, serialized.details, serialized.headers);
  return new Error(message);
}
