import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Database } from './database.ts';
import { PgDatabase } from './pg-database.ts';
import { PgliteDatabase } from './pglite-database.ts';

export type { Database, Queryable, QueryResult } from './database.ts';
export { migrate } from './migrate.ts';
export { PgDatabase } from './pg-database.ts';
export { PgliteDatabase } from './pglite-database.ts';

/** Opens the configured database: the PostgreSQL pool, or embedded PGlite in DATA_DIR. */
export async function openDatabase(config: Config): Promise<Database> {
  const { url, replicaUrl, poolMin, poolMax } = config.database;
  if (url) return new PgDatabase({ url, replicaUrl, poolMin, poolMax });
  return PgliteDatabase.open(resolve(config.dataDir, 'pglite'));
}

/** Where the database is, for messages: the URL without its password, or the PGlite folder. */
export function describeDatabase(config: Config): string {
  if (!config.database.url) return `embedded PGlite in ${resolve(config.dataDir, 'pglite')}`;
  const url = new URL(config.database.url);
  if (url.password) url.password = '***';
  return url.toString();
}
