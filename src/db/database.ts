/** What a query answers: its rows and how many rows it touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs one parameterised SQL statement: a pool, a client, a transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * The small database interface the hub is written against. Two implementations share the
 * same SQL and migrations: a PostgreSQL pool (`pg-database.ts`) and embedded PGlite
 * (`pglite-database.ts`).
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Where read-heavy queries go: the read replica when one is configured, else this database. */
  readonly reader: Queryable;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
