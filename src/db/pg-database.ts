import pg from 'pg';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../common/index.ts';
import type {
  ChannelEvents,
  ChannelListener,
  Database,
  Queryable,
  QueryLimits,
  QueryOptions,
  QueryResult,
} from './database.ts';
import { PgChannelListener } from './pg-listener.ts';
import {
  boundedQuery,
  DEFAULT_QUERY_TIMEOUT_MS,
  ignoreWhileCheckedOut,
  isQueryCanceled,
  queryTimeoutError,
  timeoutOf,
  type BoundedTarget,
} from './query-timeout.ts';

export interface PgDatabaseOptions {
  url: string;
  replicaUrl?: string | undefined;
  poolMin: number;
  poolMax: number;
  /** QUERY_TIMEOUT: the default bound of `bounded()` reads (10 s when absent). */
  queryTimeoutMs?: number | undefined;
  /**
   * False: no `listen` (the embedded database's socket, whose one PGlite session sends a
   * notification to whichever client's statement is running, not to a listener).
   */
  notifications?: boolean | undefined;
}

/** int8 (counts, sums) as JS numbers: our counts stay far below 2^53. */
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

function poolQueryable(pool: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(
      sql: string,
      params?: readonly unknown[],
      options?: QueryOptions,
    ): Promise<QueryResult<R>> {
      try {
        const values = params as unknown[] | undefined;
        const result = await (options?.name
          ? pool.query({ name: options.name, text: sql, values })
          : pool.query(sql, values));
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      } catch (error) {
        // A statement_timeout set on a transaction (`limitTransaction`) or an operator's cancel.
        throw isQueryCanceled(error) ? queryTimeoutError(undefined, undefined, error) : error;
      }
    },
  };
}

/** A PostgreSQL connection pool, with an optional read-replica pool for `reader`. */
export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly reader: Queryable;
  private readonly pool: pg.Pool;
  private readonly replica: pg.Pool | undefined;
  private readonly primary: Queryable;
  readonly queryTimeoutMs: number;
  private readonly boundedTarget: BoundedTarget;
  /** One connection per server, only for `pg_cancel_backend`: busy pools cannot delay a cancel. */
  private readonly cancelPools: pg.Pool[] = [];

  /** Where it connects: DATABASE_URL, or the embedded database owner's socket when sharing it. */
  readonly url: string;
  readonly listen?: (channel: string, events: ChannelEvents) => ChannelListener;
  private readonly listeners = new Set<ChannelListener>();

  constructor(options: PgDatabaseOptions) {
    this.url = options.url;
    if (options.notifications !== false) {
      this.listen = (channel, events) => {
        const listener = new PgChannelListener({ url: options.url, channel }, events);
        this.listeners.add(listener);
        return listener;
      };
    }
    const common = { min: options.poolMin, max: options.poolMax, idleTimeoutMillis: 30_000 };
    this.pool = new pg.Pool({ connectionString: options.url, ...common });
    this.pool.on('error', () => undefined); // an idle client's error is reported by its next query
    this.primary = poolQueryable(this.pool);
    if (options.replicaUrl) {
      this.replica = new pg.Pool({ connectionString: options.replicaUrl, ...common });
      this.replica.on('error', () => undefined); // as the primary's: reported by the next query
      this.reader = poolQueryable(this.replica);
    } else {
      this.reader = this.primary;
    }
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.boundedTarget = this.cancellable(
      this.replica ?? this.pool,
      options.replicaUrl ?? options.url,
    );
  }

  bounded(limits?: QueryLimits): Queryable {
    const timeoutMs = timeoutOf(limits, this.queryTimeoutMs);
    const target = this.boundedTarget;
    return {
      query: <R>(sql: string, params?: readonly unknown[]) =>
        boundedQuery<R>(target, sql, params, timeoutMs, limits?.signal),
    };
  }

  private cancellable(pool: pg.Pool, url: string): BoundedTarget {
    let cancelPool: pg.Pool | undefined;
    return {
      pool,
      cancel: async (pid) => {
        if (!cancelPool) {
          cancelPool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 10_000 });
          cancelPool.on('error', () => undefined); // an idle client's error is reported by its next query
          this.cancelPools.push(cancelPool);
        }
        // Not thrown: the statement still ends by its statement_timeout, so nothing is lost.
        await cancelPool.query('SELECT pg_cancel_backend($1)', [pid]).catch((error: unknown) => {
          process.emitWarning(`pg_cancel_backend(${pid}) failed: ${(error as Error).message}`);
        });
      },
    };
  }

  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    return this.primary.query<R>(sql, params, options);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    client.on('error', ignoreWhileCheckedOut);
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(poolQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // The caller gets the first error. A failed ROLLBACK leaves the connection in an unknown
      // state (PostgreSQL ends the transaction when the connection closes): it is dropped.
      await client.query('ROLLBACK').catch(() => void (broken = true));
      throw error;
    } finally {
      client.off('error', ignoreWhileCheckedOut);
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
    if (this.replica) await this.replica.query('SELECT 1');
  }

  async close(): Promise<void> {
    // Idle clients end at once; a client still checked out (work a forced close above gave
    // up on) would hold `end()` until its query returns. Past the deadline the pools are let
    // go: the process is about to exit, and PostgreSQL ends the sessions it leaves behind.
    // Nothing acknowledged is at stake: a committed write is on disk, an open one rolls back.
    await finishedWithin(
      Promise.all([
        ...[...this.listeners].map((l) => l.close()),
        this.pool.end(),
        this.replica?.end(),
        ...this.cancelPools.map((p) => p.end()),
      ]),
      CLOSE_DEADLINE_MS,
    );
  }
}
