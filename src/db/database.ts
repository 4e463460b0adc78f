/** What a query answers: its rows and how many rows it touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** How one statement runs, beyond its SQL and parameters. */
export interface QueryOptions {
  /**
   * A name for a statement run very often (a submission's write): PostgreSQL then parses and
   * plans it once per connection and only binds and runs it afterwards (a prepared
   * statement). One name must always carry the same SQL text. Ignored where it does not
   * apply (the embedded PGlite).
   */
  name?: string;
}

/** Anything that runs one parameterised SQL statement: a pool, a client, a transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
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

/** What a channel listener reports (`Database.listen`). */
export interface ChannelEvents {
  /** A notification arrived on the channel (its payload is not read). */
  notified(): void;
  /**
   * The listener LISTENs: the first time, or again after a lost connection. Notifications
   * sent while it was down are lost: whatever they announced is to be looked for now.
   */
  connected(): void;
  /**
   * It is not listening (its connection dropped, or the next attempt failed): notifications
   * are missed until `connected`. `retryInMs`: when it tries again.
   */
  disconnected(reason: string, retryInMs: number): void;
}

/** A running `Database.listen`; `close` stops it for good. */
export interface ChannelListener {
  close(): Promise<void>;
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
  /**
   * LISTENs on `channel` on a connection of its own (never one of the pool's), reconnecting
   * with back-off whenever that connection drops. Absent where this database cannot (an
   * export thread's port; a process that shares the embedded database through its socket).
   */
  listen?(channel: string, events: ChannelEvents): ChannelListener;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
