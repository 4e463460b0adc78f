/** What the import benchmark's measurements share: the hub, its database, and how to time a load. */

import type pg from 'pg';
import type { FormRow } from '../../src/forms/index.ts';
import type { TestHub } from '../../test/support/hub.ts';
import { startCpuClock, stopCpuClock, type CpuClock } from './cpu.ts';

export interface Measurement {
  name: string;
  ms: number;
  note: string;
  /** CPU used meanwhile by everything but this process and this database's backends, % of one core. */
  rest?: number;
}

async function databaseBackends(ctx: Context): Promise<number[]> {
  const { rows } = await ctx.admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return rows.map((r) => r.pid);
}

/** Starts timing a load of this database (its backends are ours, not "others"). */
export const startClock = (ctx: Context) => startCpuClock(() => databaseBackends(ctx));

/** Wall time since `clock`, and `rest`: the CPU others used meanwhile, % of one core. */
export async function stopClock(
  ctx: Context,
  clock: CpuClock,
): Promise<{ ms: number; rest: number }> {
  const { ms, others } = await stopCpuClock(clock, () => databaseBackends(ctx));
  return { ms, rest: others };
}

export interface Context {
  /** How many rows every load must leave in `responses`. */
  rows: number;
  hub: TestHub;
  admin: pg.Client;
  url: string;
  port: number;
  key: string;
  form: FormRow;
  now: number;
  csvPath: string;
}

/** Empties the responses table and flushes dirty pages, so every load starts alike. */
export async function emptyTable(ctx: Context): Promise<void> {
  await ctx.admin.query('TRUNCATE responses');
  await ctx.admin.query('CHECKPOINT');
}

async function countRows(ctx: Context): Promise<number> {
  const { rows } = await ctx.admin.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM responses WHERE form_id = $1',
    [ctx.form.id],
  );
  return rows[0]?.n ?? 0;
}

/** Throws unless the load left exactly `ctx.rows` rows of the form in `responses`. */
export async function expectRows(ctx: Context, what: string): Promise<void> {
  const n = await countRows(ctx);
  if (n !== ctx.rows)
    throw new Error(`${what}: expected ${ctx.rows} rows in responses, found ${n}`);
}

/** Runs `fn` and answers how long it took and the CPU others used meanwhile. */
export async function timed(
  ctx: Context,
  fn: () => Promise<unknown>,
): Promise<{ ms: number; rest: number }> {
  const clock = await startClock(ctx);
  await fn();
  return stopClock(ctx, clock);
}
