import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitTransaction, PgDatabase, withQueryTimeout } from '../../src/db/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually } from '../support/receiver.ts';
import { rejection } from '../support/rejection.ts';

/**
 * The contract of `withQueryTimeout` (DESIGN.md section 3a), as exports and every other
 * bounded reader rely on it. `pg_sleep` stands for a slow statement here only: in the
 * test, never in the hub's code.
 */

describe('withQueryTimeout on PostgreSQL', () => {
  let database: TestDatabase;
  let db: PgDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = new PgDatabase({ url: database.url, poolMin: 0, poolMax: 2, queryTimeoutMs: 150 });
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  /** Statements sleeping now on this database, but the caller's own. */
  const sleeping = async () =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
           AND query LIKE '%pg_sleep%'`,
      )
    ).rows[0]!.n;

  it('cancels a statement past QUERY_TIMEOUT in PostgreSQL: 503 query_timeout', async () => {
    const started = performance.now();
    const error = await rejection(withQueryTimeout(db).query('SELECT pg_sleep(30)'));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'query_timeout', status: 503 });
    expect(await sleeping()).toBe(0);
  });

  it('takes a bound of its own, and runs statements within it', async () => {
    const reader = withQueryTimeout(db, { timeoutMs: 5_000 });
    expect((await reader.query<{ x: number }>('SELECT 1 AS x FROM pg_sleep(0.3)')).rows).toEqual([
      { x: 1 },
    ]);
  });

  it('cancels the running statement when the signal aborts, and leaves the pool usable', async () => {
    const controller = new AbortController();
    const running = rejection(
      withQueryTimeout(db, { timeoutMs: 60_000, signal: controller.signal }).query(
        'SELECT pg_sleep(30)',
      ),
    );
    await eventually(async () => ((await sleeping()) > 0 ? true : undefined), 10_000);
    const aborted = performance.now();
    controller.abort();
    expect(await running).toMatchObject({ code: 'query_timeout' });
    expect(performance.now() - aborted).toBeLessThan(5_000);
    expect(await sleeping()).toBe(0);
    for (let i = 0; i < 4; i++) {
      expect((await withQueryTimeout(db).query<{ x: number }>('SELECT 2 AS x')).rows).toEqual([
        { x: 2 },
      ]);
    }
  });

  it('starts nothing once the signal has aborted', async () => {
    const error = await rejection(
      withQueryTimeout(db, { signal: AbortSignal.abort() }).query('SELECT 1'),
    );
    expect(error).toMatchObject({ code: 'query_timeout' });
  });

  it('is read-only, and passes other errors through untouched', async () => {
    await db.query('CREATE TABLE t (x int)');
    const write = await rejection(withQueryTimeout(db).query('INSERT INTO t VALUES (1)'));
    expect(write).toMatchObject({ code: '25006' }); // read_only_sql_transaction
    expect(await rejection(withQueryTimeout(db).query('SELECT * FROM nowhere'))).toMatchObject({
      code: '42P01',
    });
  });

  it('bounds a transaction with limitTransaction', async () => {
    const error = await rejection(
      db.transaction(async (tx) => {
        await limitTransaction(db, tx);
        await tx.query('SELECT pg_sleep(30)');
      }),
    );
    expect(error).toMatchObject({ code: 'query_timeout', status: 503 });
  });
});
