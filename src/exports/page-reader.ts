import { limitTransaction, type Database, type Queryable } from '../db/index.ts';

/**
 * Runs one page read. Each read of an export is its own short statement; a `PageReader`
 * decides where it runs and how long it may take.
 */
export type PageReader = <T>(read: (db: Queryable) => Promise<T>) => Promise<T>;

function hasTransactions(db: Queryable | Database): db is Database {
  return typeof (db as Partial<Database>).transaction === 'function';
}

/**
 * A reader whose every page is bounded by `timeoutMs` (QUERY_TIMEOUT): each page is one
 * transaction limited by `limitTransaction` (`SET LOCAL statement_timeout` on PostgreSQL; on
 * the embedded database, its thread is stopped), so a slow page is cancelled and the export
 * fails, while a long export as a whole is fine. These transactions run on the primary. Without a timeout a
 * `Database` is read through its `reader` (the replica when there is one); a plain
 * `Queryable` (no transactions) is read as it is.
 */
export function boundedPageReader(db: Queryable | Database, timeoutMs?: number): PageReader {
  if (!hasTransactions(db)) return (read) => read(db);
  if (!timeoutMs) return (read) => read(db.reader);
  return (read) =>
    db.transaction(async (tx) => {
      await limitTransaction({ queryTimeoutMs: timeoutMs }, tx);
      return read(tx);
    });
}
