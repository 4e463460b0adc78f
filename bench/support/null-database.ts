import type { Database, QueryResult } from '../../src/db/index.ts';

/**
 * A Database that runs nothing: every statement "touches" as many rows as its 4th
 * parameter (the id array of an import batch) holds. Only for the import benchmark's
 * breakdown, to time the JavaScript side of an import (parse, validate, serialise) with
 * PostgreSQL taken out; `statements` keeps the parameters it was given, to replay them.
 */
export class NullDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly reader = this;
  readonly statements: (readonly unknown[])[] = [];
  /** The last statement's SQL (an import sends one statement, over and over). */
  sql = '';

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    // The import's slot check (at most 2 imports per workspace) is granted: with nothing
    // running there is a free slot, and it is no batch, so it is neither kept nor replayed.
    if (sql.includes('pg_try_advisory_xact_lock'))
      return { rows: [{ taken: true } as R], rowCount: 1 };
    this.sql = sql;
    this.statements.push(params);
    const ids = params[3];
    return { rows: [], rowCount: Array.isArray(ids) ? ids.length : 0 };
  }

  bounded(): Database {
    return this;
  }

  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
