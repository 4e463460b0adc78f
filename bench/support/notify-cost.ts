/**
 * bench/wakeup.ts, part 2: what a NOTIFY costs the commits of events. PostgreSQL (up to 18)
 * takes one database-wide lock at the commit of every transaction that notified and holds
 * it until the commit is flushed, so notifying commits are serialised. `clients` connections
 * insert one row per transaction (autocommit, the size of an outbox insert) for `seconds`,
 * in three ways, alternating `rounds` times: `plain` (no notification), `trigger` (a
 * statement-level trigger NOTIFYs in the inserting transaction, the first design), and
 * `after-commit` (plain inserts, each followed by the hub's OutboxNotifier: a coalesced
 * NOTIFY of its own, committed without waiting for the flush). Commits per second and the
 * p50/p95 of one insert (median round), for each.
 */

import pg from 'pg';
import pino from 'pino';
import { OutboxNotifier } from '../../src/events/index.ts';
import { createTestDatabase } from '../../test/support/database.ts';
import { percentiles, round } from './stats.ts';

type Way = 'plain' | 'trigger' | 'after-commit';
const WAYS: readonly Way[] = ['plain', 'trigger', 'after-commit'];

export interface CommitCost {
  table: Way;
  commitsPerSecond: number;
  p50: number;
  p95: number;
}

const SCHEMA = [
  `CREATE TABLE plain (id bigserial PRIMARY KEY, payload jsonb NOT NULL)`,
  `CREATE TABLE notified (id bigserial PRIMARY KEY, payload jsonb NOT NULL)`,
  `CREATE FUNCTION notify_bench() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN PERFORM pg_notify('formhub_bench_outbox', ''); RETURN NULL; END $$`,
  `CREATE TRIGGER notify_bench AFTER INSERT ON notified
     FOR EACH STATEMENT EXECUTE FUNCTION notify_bench()`,
];
const PAYLOAD = JSON.stringify({
  response: { data: { name: 'Ada', age: 36, note: 'x'.repeat(300) } },
});

async function phase(pool: pg.Pool, way: Way, clients: number, ms: number) {
  const table = way === 'trigger' ? 'notified' : 'plain';
  const notifier = new OutboxNotifier(
    { query: (sql: string) => pool.query(sql).then((r) => ({ rows: r.rows, rowCount: 0 })) },
    pino({ level: 'silent' }),
  );
  const latencies: number[] = [];
  const end = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await pool.query(`INSERT INTO ${table} (payload) VALUES ($1)`, [PAYLOAD]);
        latencies.push(performance.now() - t);
        if (way === 'after-commit') notifier.committed();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const p = percentiles(Float64Array.from(latencies));
  return { commits: latencies.length, seconds, p50: p.p50, p95: p.p95 };
}

export async function measureCommitCost(
  clients: number,
  seconds: number,
  rounds: number,
): Promise<CommitCost[]> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: clients });
  try {
    for (const statement of SCHEMA) await pool.query(statement);
    const totals = Object.fromEntries(
      WAYS.map((way) => [
        way,
        { commits: 0, seconds: 0, p50: [] as number[], p95: [] as number[] },
      ]),
    ) as Record<Way, { commits: number; seconds: number; p50: number[]; p95: number[] }>;
    await phase(pool, 'plain', clients, 1_000); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const way of WAYS) {
        const p = await phase(pool, way, clients, seconds * 1000);
        const total = totals[way];
        total.commits += p.commits;
        total.seconds += p.seconds;
        total.p50.push(p.p50);
        total.p95.push(p.p95);
      }
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return WAYS.map((table) => ({
      table,
      commitsPerSecond: Math.round(totals[table].commits / totals[table].seconds),
      p50: round(median(totals[table].p50), 2),
      p95: round(median(totals[table].p95), 2),
    }));
  } finally {
    await pool.end();
    await database.drop();
  }
}
