/** What a query answers: its rows and how many rows it touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs one parameterised SQL statement: a pool, a client, a transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>>;
}

/**
 * How a bounded read runs (DESIGN.md section 3a, `QUERY_TIMEOUT`): each statement is cancelled
 * by PostgreSQL after `timeoutMs`, and at once when `signal` aborts.
 */
export interface QueryLimits {
  /** The longest a statement may run; defaults to the database's QUERY_TIMEOUT. */
  timeoutMs?: number | undefined;
  /** Aborting it (the client went away, the job was cancelled) cancels the running statement. */
  signal?: AbortSignal | undefined;
}

/**
 * The small database interface the hub is written against. Two implementations share the
 * same SQL and migrations: a PostgreSQL pool (`pg-database.ts`) and embedded PGlite
 * (`pglite-thread-database.ts`, on a worker thread).
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Where read-heavy queries go: the read replica when one is configured, else this database. */
  readonly reader: Queryable;
  /**
   * QUERY_TIMEOUT where this database enforces it (PostgreSQL); absent where it cannot
   * (embedded PGlite). `limitTransaction` applies it to a transaction of reads.
   */
  readonly queryTimeoutMs?: number;
  /**
   * The reader, bounded: every statement runs under `statement_timeout` and is cancelled when
   * `limits.signal` aborts. A timeout rejects with AppError `query_timeout` (503); an abort
   * too (the caller is gone; `signal.aborted` tells the two apart). See `withQueryTimeout`.
   */
  bounded(limits?: QueryLimits): Queryable;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
