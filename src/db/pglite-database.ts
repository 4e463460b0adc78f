import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryLimits, QueryResult } from './database.ts';
import { unboundedReader } from './query-timeout.ts';

function wrap(target: Pick<PGlite, 'query'>): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await target.query<R>(sql, params as unknown[] | undefined);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
  };
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) stored in a directory: the database of
 * `npm start` on a machine without a PostgreSQL server. One connection; PGlite
 * serialises queries and transactions itself.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly reader: Queryable;
  private readonly inner: Queryable;

  private constructor(private readonly db: PGlite) {
    this.inner = wrap(db);
    this.reader = this.inner;
  }

  /** Opens (creating if needed) the database in `dataDir`, or in memory when it is `memory://`. */
  static async open(dataDir: string): Promise<PgliteDatabase> {
    if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir);
    return new PgliteDatabase(db);
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.inner.query<R>(sql, params);
  }

  /** statement_timeout does not fire inside WebAssembly: statements run to the end (docs/security.md). */
  bounded(limits?: QueryLimits): Queryable {
    return unboundedReader(this.reader, limits);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(wrap(tx)));
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
