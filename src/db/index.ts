import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Database } from './database.ts';
import { PgDatabase } from './pg-database.ts';
import { openEmbeddedDatabase, type EmbeddedAccess } from './embedded-database.ts';

export type { Database, Queryable, QueryResult } from './database.ts';
export { migrate } from './migrate.ts';
export { PgDatabase } from './pg-database.ts';
export { PgliteDatabase } from './pglite-database.ts';
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
  if (url) return new PgDatabase({ url, replicaUrl, poolMin, poolMax });
  return openEmbeddedDatabase(config.dataDir, {
    access: options.embedded ?? 'own',
    command: options.command ?? `formhub (pid ${process.pid})`,
    poolMax,
  });
}

/** Where the database is, for messages: the URL without its password, or the PGlite folder. */
export function describeDatabase(config: Config): string {
  if (!config.database.url) return `embedded PGlite in ${resolve(config.dataDir, 'pglite')}`;
  const url = new URL(config.database.url);
  if (url.password) url.password = '***';
  return url.toString();
}
