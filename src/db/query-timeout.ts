import type pg from 'pg';
import { AppError } from '../errors/index.ts';
import type { Database, Queryable, QueryLimits, QueryResult } from './database.ts';

/** QUERY_TIMEOUT's default (DESIGN.md section 2), for databases opened without a config. */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` or `pg_cancel_backend`. */
const QUERY_CANCELED = '57014';

/** Whether `error` is PostgreSQL's `query_canceled` (57014). */
export function isQueryCanceled(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === QUERY_CANCELED
  );
}

/**
 * The one place PostgreSQL's 57014 becomes the API's 503 `query_timeout`. A statement cancelled
 * because `signal` aborted gets the same code with its own message: nobody waits for the
 * answer, and the caller can tell by `signal.aborted`.
 */
export function queryTimeoutError(
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
  cause?: unknown,
): AppError {
  const limit = timeoutMs === undefined ? 'its time limit' : `${timeoutMs} ms`;
  const message = signal?.aborted
    ? 'the request was abandoned; its query was cancelled'
    : `the query ran longer than ${limit} (QUERY_TIMEOUT) and was cancelled; narrow it`;
  const error = new AppError('query_timeout', message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** A positive whole number of milliseconds: `statement_timeout = 0` would mean no limit. */
export function timeoutOf(limits: QueryLimits | undefined, fallbackMs: number): number {
  const ms = limits?.timeoutMs ?? fallbackMs;
  return Number.isFinite(ms) ? Math.max(1, Math.floor(ms)) : fallbackMs;
}

/** Where a bounded statement runs, and how to cancel one (a pool kept apart for that). */
export interface BoundedTarget {
  pool: pg.Pool;
  /** Runs `SELECT pg_cancel_backend(pid)` on a connection that busy queries cannot hold up. */
  cancel(pid: number): Promise<void>;
}

/**
 * Runs one statement on its own connection of `target.pool`, in a transaction whose
 * `SET LOCAL statement_timeout` bounds it (sent with BEGIN: one extra round trip, plus
 * COMMIT). When `signal` aborts mid-statement the backend is cancelled with
 * `pg_cancel_backend`, and that connection is discarded rather than reused, so a late
 * cancel can never hit someone else's statement.
 */
export async function boundedQuery<R>(
  target: BoundedTarget,
  sql: string,
  params: readonly unknown[] | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<QueryResult<R>> {
  if (signal?.aborted) throw queryTimeoutError(timeoutMs, signal);
  const client = await target.pool.connect();
  client.on('error', ignoreWhileCheckedOut);
  let cancelling: Promise<void> | undefined;
  const onAbort = () => {
    const pid = (client as unknown as { processID: number | null }).processID;
    if (pid !== null) cancelling = target.cancel(pid);
  };
  let broken = false;
  const started = Date.now();
  try {
    await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}`);
    if (signal?.aborted) throw queryTimeoutError(timeoutMs, signal);
    signal?.addEventListener('abort', onAbort, { once: true });
    let result: pg.QueryResult;
    try {
      result = await client.query(sql, params as unknown[] | undefined);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    await client.query('COMMIT');
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  } catch (error) {
    // A failed ROLLBACK leaves the connection in an unknown state: it is dropped, not reused.
    await client.query('ROLLBACK').catch(() => void (broken = true));
    const timedOut =
      isQueryCanceled(error) || (connectionLost(error) && Date.now() - started >= timeoutMs);
    throw timedOut ? queryTimeoutError(timeoutMs, signal, error) : error;
  } finally {
    if (cancelling) {
      await cancelling;
      broken = true;
    }
    client.off('error', ignoreWhileCheckedOut);
    client.release(broken);
  }
}

/**
 * A checked-out client whose connection ends also emits 'error' (the pool listens only while
 * it is idle); unheard, that would end the process. The statement in flight rejects with the
 * same error, which is what is reported.
 */
export function ignoreWhileCheckedOut(): void {}

/**
 * The connection ended mid-statement. Past the statement's timeout that is how the embedded
 * database stops it for a client of its socket (it ends its PGlite thread, pglite-thread.ts).
 */
function connectionLost(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ECONNRESET' || code === 'EPIPE') return true;
  return typeof message === 'string' && message.includes('Connection terminated');
}

/**
 * Bounds every later statement of the transaction `tx` by the database's QUERY_TIMEOUT
 * (`SET LOCAL statement_timeout`), for reads that need one snapshot; a no-op where the
 * database cannot enforce it. A statement past it rejects with AppError `query_timeout`.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await limitTransaction(db, tx);
 *   return aggregatesFromSql(tx, formId);
 * });
 */
export async function limitTransaction(
  db: Pick<Database, 'queryTimeoutMs'>,
  tx: Queryable,
): Promise<void> {
  if (db.queryTimeoutMs === undefined) return;
  const timeoutMs = timeoutOf(undefined, db.queryTimeoutMs);
  if (isLimitable(tx)) return tx.limitStatements(timeoutMs);
  await tx.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
}

/**
 * A transaction that bounds its statements itself, where `statement_timeout` does not work
 * (the embedded database's, pglite-thread-database.ts).
 */
export interface LimitableTransaction extends Queryable {
  limitStatements(timeoutMs: number): void;
}

function isLimitable(tx: Queryable): tx is LimitableTransaction {
  return typeof (tx as Partial<LimitableTransaction>).limitStatements === 'function';
}
