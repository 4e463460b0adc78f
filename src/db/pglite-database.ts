import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryLimits, QueryResult } from './database.ts';
import { unboundedReader } from './query-timeout.ts';
import { EmbeddedServer } from './embedded-server.ts';
import { SessionLock } from './session-lock.ts';

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
 * `npm start` on a machine without a PostgreSQL server. One session: each query and each
 * transaction holds it whole (a SessionLock), which the clients of `serve()` share.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly reader: Queryable;
  private readonly inner: Queryable;
  private readonly session = new SessionLock();
  private server: EmbeddedServer | undefined;
  private readonly closeHooks: (() => void)[] = [];

  private constructor(private readonly db: PGlite) {
    const direct = wrap(db);
    this.inner = { query: (sql, params) => this.session.run(() => direct.query(sql, params)) };
    this.reader = this.inner;
  }

  /** Opens (creating if needed) the database in `dataDir`, or in memory when it is `memory://`. */
  static async open(dataDir: string): Promise<PgliteDatabase> {
    if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir);
    return new PgliteDatabase(db);
  }

  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    return this.inner.query<R>(sql, params);
  }

  /** statement_timeout does not fire inside WebAssembly: statements run to the end (docs/security.md). */
  bounded(limits?: QueryLimits): Queryable {
    return unboundedReader(this.reader, limits);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.session.run(() => this.db.transaction((tx) => fn(wrap(tx))));
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /**
   * Serves this database to other local processes on the Unix socket `path` (see
   * embedded-server.ts) until `close()`.
   */
  async serve(path: string): Promise<void> {
    this.server = await EmbeddedServer.start(this.db, this.session, path);
  }

  /** Runs `hook` once the database is closed (used to release the DATA_DIR lock). */
  onClose(hook: () => void): void {
    this.closeHooks.push(hook);
  }

  async close(): Promise<void> {
    try {
      await this.server?.stop();
      await this.db.close();
    } finally {
      for (const hook of this.closeHooks.splice(0)) hook();
    }
  }
}
