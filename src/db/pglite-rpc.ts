import type { Queryable, QueryLimits, QueryResult } from './database.ts';
import { queryTimeoutError, timeoutOf, type LimitableTransaction } from './query-timeout.ts';

/**
 * What a side that talks to the PGlite thread over messages provides (the owner's
 * PgliteThreadDatabase, an export thread's PglitePortDatabase) for `rpcTransaction`.
 */
export interface RpcSide {
  nextId(): number;
  /** Sends `begin`, `commit` or `rollback` and waits for its answer. */
  end(
    request:
      { type: 'begin'; id: number } | { type: 'commit' | 'rollback'; id: number; tx: number },
  ): Promise<unknown>;
  /** Runs one statement of transaction `tx`, timed for `limitMs` when given. */
  run<R>(
    sql: string,
    params: readonly unknown[] | undefined,
    tx: number,
    limitMs: number | undefined,
  ): Promise<QueryResult<R>>;
}

/**
 * A transaction on the PGlite thread: `begin` holds its session until `commit` or
 * `rollback`; the statements between carry its id. `limitTransaction` bounds each later
 * statement as a `bounded()` read is (`limitStatements`).
 */
export async function rpcTransaction<T>(
  side: RpcSide,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  const tx = side.nextId();
  await side.end({ type: 'begin', id: tx });
  let limit: number | undefined;
  const queryable: LimitableTransaction = {
    query: <R>(sql: string, params?: readonly unknown[]) => side.run<R>(sql, params, tx, limit),
    limitStatements: (timeoutMs: number) => void (limit = timeoutMs),
  };
  try {
    const result = await fn(queryable);
    await side.end({ type: 'commit', id: side.nextId(), tx });
    return result;
  } catch (error) {
    await side.end({ type: 'rollback', id: side.nextId(), tx }).catch(() => {
      // The thread is gone (ended for one of this transaction's statements, or restarted):
      // so is the transaction, rolled back with it.
    });
    throw error;
  }
}

/**
 * `Database.bounded()` for both sides of the PGlite thread: no statement starts once
 * `limits.signal` has aborted; `run` sends the rest timed for the bound (default `defaultMs`).
 */
export function rpcBounded(
  limits: QueryLimits | undefined,
  defaultMs: number,
  run: <R>(
    sql: string,
    params: readonly unknown[] | undefined,
    timeoutMs: number,
  ) => Promise<QueryResult<R>>,
): Queryable {
  const timeoutMs = timeoutOf(limits, defaultMs);
  const signal = limits?.signal;
  return {
    query: <R>(sql: string, params?: readonly unknown[]) => {
      if (signal?.aborted) return Promise.reject(queryTimeoutError(timeoutMs, signal));
      return run<R>(sql, params, timeoutMs);
    },
  };
}
