/**
 * Counts and times the SQL statements a hub issues in this process, by kind, without
 * touching src/: the Database instance's `query` and `transaction` are wrapped in place.
 * Each call is timed from the call to its answer, so pool waits count. An AsyncLocalStorage
 * scope (`scoped`) adds up the database time of one unit of work (e.g. one delivery attempt).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database, Queryable } from '../../src/db/index.ts';

export interface StatementStats {
  label: string;
  calls: number;
  totalMs: number;
  maxMs: number;
}

/** The running total of one scope. */
interface Scope {
  dbMs: number;
  queries: number;
}

export interface QueryProfile {
  /** Statistics by statement kind since the last `reset`. */
  stats(): StatementStats[];
  reset(): void;
  /** Runs `fn` in a scope of its own and answers its result, its wall time and its database time. */
  scoped<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; dbMs: number; queries: number }>;
  /** Puts the original methods back. */
  uninstall(): void;
}

/** A short, stable name for a statement: a known kind, or its first words. */
export type Labeller = (sql: string) => string;

/** The label of whole transactions (their statements are counted on their own too). */
export const TRANSACTIONS = '(transaction: BEGIN ... COMMIT, whole span)';

export const firstWords: Labeller = (sql) => sql.replace(/\s+/g, ' ').trim().slice(0, 70);

export function installQueryProfile(db: Database, label: Labeller = firstWords): QueryProfile {
  const table = new Map<string, StatementStats>();
  const scopes = new AsyncLocalStorage<Scope>();
  const record = (sql: string, ms: number) => {
    const name = label(sql);
    let entry = table.get(name);
    if (!entry) table.set(name, (entry = { label: name, calls: 0, totalMs: 0, maxMs: 0 }));
    entry.calls++;
    entry.totalMs += ms;
    if (ms > entry.maxMs) entry.maxMs = ms;
    const scope = scopes.getStore();
    if (scope) {
      scope.dbMs += ms;
      scope.queries++;
    }
  };
  const timed = (target: Queryable): Queryable['query'] => {
    const original = target.query.bind(target);
    return (async (sql: string, params?: readonly unknown[]) => {
      const started = performance.now();
      try {
        return await original(sql, params);
      } finally {
        record(sql, performance.now() - started);
      }
    }) as Queryable['query'];
  };
  const originalQuery = db.query;
  const originalTransaction = db.transaction;
  const reader = db.reader as { query: Queryable['query'] };
  const originalReaderQuery = reader.query;
  const boundTransaction = originalTransaction.bind(db);
  db.query = timed(db);
  // `reader` is wrapped only when db.query does not already go through it (a replica pool).
  const wrapReader = reader !== db && Reflect.get(db, 'primary') !== reader;
  if (wrapReader) reader.query = timed(reader);
  db.transaction = (async <T>(fn: (tx: Queryable) => Promise<T>) => {
    const started = performance.now();
    try {
      return await boundTransaction(async (tx) => fn({ query: timed(tx) }));
    } finally {
      // BEGIN and COMMIT are two more round trips; the time is the whole transaction's.
      const entry = table.get(TRANSACTIONS) ?? {
        label: TRANSACTIONS,
        calls: 0,
        totalMs: 0,
        maxMs: 0,
      };
      const ms = performance.now() - started;
      entry.calls++;
      entry.totalMs += ms;
      entry.maxMs = Math.max(entry.maxMs, ms);
      table.set(TRANSACTIONS, entry);
    }
  }) as Database['transaction'];
  return {
    stats: () => [...table.values()].sort((a, b) => b.totalMs - a.totalMs),
    reset: () => table.clear(),
    async scoped(fn) {
      const scope: Scope = { dbMs: 0, queries: 0 };
      const started = performance.now();
      const value = await scopes.run(scope, fn);
      return { value, ms: performance.now() - started, dbMs: scope.dbMs, queries: scope.queries };
    },
    uninstall() {
      db.query = originalQuery;
      db.transaction = originalTransaction;
      if (wrapReader) reader.query = originalReaderQuery;
    },
  };
}
