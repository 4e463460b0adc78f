import pg from 'pg';
import type { Database, Queryable, QueryResult } from './database.ts';

export interface PgDatabaseOptions {
  url: string;
  replicaUrl?: string | undefined;
  poolMin: number;
  poolMax: number;
}

/** int8 (counts, sums) as JS numbers: our counts stay far below 2^53. */
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

function poolQueryable(pool: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await pool.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
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

  constructor(options: PgDatabaseOptions) {
    const common = { min: options.poolMin, max: options.poolMax, idleTimeoutMillis: 30_000 };
    this.pool = new pg.Pool({ connectionString: options.url, ...common });
    this.pool.on('error', () => undefined); // an idle client's error is reported by its next query
    this.primary = poolQueryable(this.pool);
    if (options.replicaUrl) {
      this.replica = new pg.Pool({ connectionString: options.replicaUrl, ...common });
      this.replica.on('error', () => undefined);
      this.reader = poolQueryable(this.replica);
    } else {
      this.reader = this.primary;
    }
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.primary.query<R>(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(poolQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
    if (this.replica) await this.replica.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.replica?.end()]);
  }
}
