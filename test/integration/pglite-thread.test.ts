import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  limitTransaction,
  PgDatabase,
  PglitePortDatabase,
  PgliteThreadDatabase,
  withQueryTimeout,
} from '../../src/db/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { watchEventLoop } from '../security/loop-watch.ts';
import { rejection } from '../support/rejection.ts';

/**
 * The embedded database on a thread of its own (DESIGN.md section 3a, QUERY_TIMEOUT): a
 * statement that would run for minutes is stopped at its bound, the hub's event loop never
 * waits for it, and nothing else is lost or run twice.
 */

/** Minutes of work for PGlite: it ends only if something stops it. */
const ENDLESS = 'SELECT count(*) FROM generate_series(1, 10000000000)';

describe('PgliteThreadDatabase', () => {
  let dir: string;
  let db: PgliteThreadDatabase;
  const count = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]!.n;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-thread-'));
    db = await PgliteThreadDatabase.open({
      dataDir: join(dir, 'pglite'),
      socket: join(dir, 'run', '.s.PGSQL.5432'),
      queryTimeoutMs: 300,
    });
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs statements and transactions, with PostgreSQL’s values and error codes', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (1, $1)', ['one']);
      await tx.query('INSERT INTO t VALUES (2, $1)', ['two']);
    });
    const failed = await rejection(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (3, $1)', ['three']);
        await tx.query('INSERT INTO t VALUES (1, $1)', ['again']);
      }),
    );
    expect(failed).toMatchObject({ code: '23505', constraint: 't_pkey' });
    expect((await db.query('SELECT id, v FROM t ORDER BY id')).rows).toEqual([
      { id: 1, v: 'one' },
      { id: 2, v: 'two' },
    ]);
    const { rows } = await db.query<{ at: Date; big: bigint }>(
      "SELECT '2026-12-07T10:00:00Z'::timestamptz AS at, 9007199254740993::int8 AS big",
    );
    expect(rows[0]!.at).toEqual(new Date('2026-12-07T10:00:00Z'));
    expect(rows[0]!.big).toBe(9007199254740993n);
  });

  it('stops a bounded read at its timeout without holding up the event loop', async () => {
    const loop = watchEventLoop();
    const started = performance.now();
    const error = await rejection(withQueryTimeout(db).query(ENDLESS));
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'query_timeout', status: 503 });
    expect(took).toBeLessThan(10_000); // 300 ms, and a busy machine's scheduling
    expect(await count()).toBe(2); // the new thread answers, on the same data
    // Before the thread, a statement like this held the loop for its whole run (39.8 s measured).
    expect(await loop.stop()).toBeLessThan(1_000);
  });

  it('runs the calls waiting behind a stopped statement exactly once', async () => {
    const slow = rejection(db.bounded({ timeoutMs: 300 }).query(ENDLESS));
    const writes = [4, 5, 6].map((id) => db.query('INSERT INTO t VALUES ($1, $2)', [id, 'queued'])); // would fail on a second run
    const viaTx = db.transaction((tx) => tx.query('INSERT INTO t VALUES (7, $1)', ['tx']));
    expect(await slow).toMatchObject({ code: 'query_timeout' });
    await Promise.all([...writes, viaTx]);
    expect(await count()).toBe(6);
  });

  it('answers an abandoned read at once, and never lets it hold the database', async () => {
    const controller = new AbortController();
    const loose = db.bounded({ signal: controller.signal, timeoutMs: 600_000 });
    const pending = rejection(loose.query(ENDLESS));
    // Whether the thread has started it yet or not, it may not run its 600 s: skipped when
    // it had not, stopped after ABANDONED_STATEMENT_GRACE_MS when it had.
    await new Promise((resolve) => setImmediate(resolve));
    const left = performance.now();
    controller.abort();
    expect(await pending).toMatchObject({ code: 'query_timeout' });
    expect(performance.now() - left).toBeLessThan(500);
    expect(await count()).toBe(6);
    expect(performance.now() - left).toBeLessThan(15_000);
  });

  it('starts no statement once the signal has aborted', async () => {
    const error = await rejection(
      withQueryTimeout(db, { signal: AbortSignal.abort() }).query('SELECT 1'),
    );
    expect(error).toMatchObject({ code: 'query_timeout' });
  });

  it('bounds every statement of a limited transaction', async () => {
    const error = await rejection(
      db.transaction(async (tx) => {
        await limitTransaction(db, tx);
        await tx.query('INSERT INTO t VALUES (8, $1)', ['lost with its transaction']);
        await tx.query(ENDLESS);
      }),
    );
    expect(error).toMatchObject({ code: 'query_timeout' });
    expect(await count()).toBe(6);
  });

  it('serves another thread on a port: its reads bounded, its open transaction rolled back when it goes', async () => {
    const other = new PglitePortDatabase(db.openPort(), 300);
    expect(await other.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).toMatchObject({
      rows: [{ n: 6 }],
    });
    const timedOut = await rejection(
      other.transaction(async (tx) => {
        await limitTransaction(other, tx);
        await tx.query(ENDLESS);
      }),
    );
    expect(timedOut).toMatchObject({ code: 'query_timeout' });
    // The database thread was ended for it: the port is gone with it, the owner answers.
    expect(await rejection(other.query('SELECT 1'))).toMatchObject({ code: 'unavailable' });
    expect(await count()).toBe(6);

    const leaving = new PglitePortDatabase(db.openPort(), 300);
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    void leaving.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (9, $1)', ['left open']);
      holding();
      await new Promise(() => undefined); // never ends: the thread leaves mid-transaction
    });
    await held;
    await leaving.close();
    expect(await count()).toBe(6); // rolled back, and the session free again
  });

  it('bounds the reads of another process on its socket by the timeout that process sets', async () => {
    const url = `postgresql://postgres@/postgres?host=${encodeURIComponent(join(dir, 'run'))}`;
    const sharer = new PgDatabase({ url, poolMin: 0, poolMax: 2, queryTimeoutMs: 300 });
    try {
      const loop = watchEventLoop();
      const started = performance.now();
      expect(await rejection(sharer.bounded().query(ENDLESS))).toMatchObject({
        code: 'query_timeout',
      });
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(await loop.stop()).toBeLessThan(1_000);
      expect(await count()).toBe(6); // the owner's thread is back
      const again = await sharer.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      expect(again.rows[0]!.n).toBe(6); // and the sharer reconnects to it
      // Statements without a timeout are not timed: a quick one in a plain transaction runs.
      await sharer.transaction((tx) => tx.query('SELECT 1'));
    } finally {
      await sharer.close();
    }
  });

  it('serves other processes on its socket again after a restart', async () => {
    const client = new pg.Client({
      host: join(dir, 'run'),
      user: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      expect(rows[0]!.n).toBe(6);
    } finally {
      await client.end();
    }
  });
});
