import { resolve } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../config/index.ts';
import type { Database, Queryable, QueryLimits } from './database.ts';
import { PgDatabase } from './pg-database.ts';
import { openEmbeddedDatabase, type EmbeddedAccess } from './embedded-database.ts';
import { PgliteThreadDatabase } from './pglite-thread-database.ts';

export type {
  ChannelEvents,
  ChannelListener,
  Database,
  Queryable,
  QueryLimits,
  QueryOptions,
  QueryResult,
} from './database.ts';
export { LISTENER_APPLICATION_NAME } from './pg-listener.ts';
export { isQueryCanceled, limitTransaction, queryTimeoutError } from './query-timeout.ts';
export { migrate } from './migrate.ts';
export { PgDatabase } from './pg-database.ts';
export { PgliteThreadDatabase } from './pglite-thread-database.ts';
export { PglitePortDatabase } from './pglite-port-database.ts';
export { DataDirInUseError, type EmbeddedAccess } from './embedded-database.ts';

export interface OpenOptions {
  /**
   * With the embedded database, what to do when another live process holds DATA_DIR:
   * `own` (the default) refuses with a DataDirInUseError, `share` works through it.
   */
  embedded?: EmbeddedAccess;
  /** What this process is, for the messages of other processes (`formhub serve`). */
  command?: string;
}

/**
 * Opens the configured database: the PostgreSQL pool, or the embedded PGlite of DATA_DIR,
 * which one process at a time owns and serves to the others (src/db/embedded-database.ts).
 */
export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  const { url, replicaUrl, poolMin, poolMax } = config.database;
  const queryTimeoutMs = config.limits.queryTimeoutMs;
  if (url) return new PgDatabase({ url, replicaUrl, poolMin, poolMax, queryTimeoutMs });
  return openEmbeddedDatabase(config.dataDir, {
    access: options.embedded ?? 'own',
    command: options.command ?? `formhub (pid ${process.pid})`,
    poolMax,
    queryTimeoutMs,
  });
}

/**
 * How another thread of this process reaches `db` when it is the embedded database this
 * process owns (PgliteThreadDatabase.openPort, for export threads); undefined otherwise.
 */
export function embeddedPortOpener(db: Database): (() => MessagePort) | undefined {
  return db instanceof PgliteThreadDatabase ? () => db.openPort() : undefined;
}

/** Where the database is, for messages: the URL without its password, or the PGlite folder. */
export function describeDatabase(config: Config): string {
  if (!config.database.url) return `embedded PGlite in ${resolve(config.dataDir, 'pglite')}`;
  const url = new URL(config.database.url);
  if (url.password) url.password = '***';
  return url.toString();
}

/**
 * The reader for analytics, listing and export reads (DESIGN.md section 3a): each statement
 * runs on the read replica when there is one, under PostgreSQL's `statement_timeout` (the
 * database's QUERY_TIMEOUT unless `limits.timeoutMs` says otherwise), and is cancelled
 * (`pg_cancel_backend`) as soon as `limits.signal` aborts. A statement cancelled either way
 * rejects with AppError `query_timeout` (503); check `signal.aborted` to tell an abandoned
 * request from a slow query. Statements are read-only (`BEGIN READ ONLY`).
 *
 * On embedded PGlite, which has no timers inside its WebAssembly, the hub runs PGlite on a
 * thread of its own and ends that thread for a statement past its bound, or abandoned for a
 * second (pglite-thread-database.ts); the event loop is never held up.
 *
 * @example
 * // In a route: the request's signal aborts when the client disconnects.
 * const rows = await listResponses(withQueryTimeout(db, { signal: request.signal }), filter);
 * // In a job: its own signal, and a longer bound.
 * const reader = withQueryTimeout(db, { signal: job.signal, timeoutMs: 60_000 });
 */
export function withQueryTimeout(db: Database, limits?: QueryLimits): Queryable {
  return db.bounded(limits);
}
