/**
 * Worker scaling benchmark (DESIGN.md section 4c): deliveries per second with 1 and with 2
 * `formhub worker` processes on this machine, in the same run, to the same receiver on
 * 127.0.0.1 (bench/support/webhook-receiver.ts, a process of its own), and the hub's CPU per
 * delivery.
 *
 * Each phase: a new form with one webhook; the BullMQ delivery queue is paused; k worker
 * processes start (`formhub worker`: concurrency 50, DATABASE_POOL_MAX WORKERS_POOL_MAX); N
 * submissions go through a `formhub api` (HTTP rate limits on but out of reach); the workers'
 * relays move the N events into the paused queue; then the queue is resumed and the clock
 * runs until the receiver has all N. So both workers start delivering at the same instant,
 * and the rate is receiver-side (first to last arrival). The relay's work happened before
 * the clock and is reported apart (CPU per event during the fill).
 *
 *   npm run bench:workers
 *
 * Environment: WORKERS_DELIVERIES (10000 per phase), WORKERS_SEQUENCE (1,2,1,2: worker
 * processes per phase, in order), WORKERS_POOL_MAX (10: DATABASE_POOL_MAX of each hub process),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DELIVERY_QUEUE } from '../src/delivery/index.ts';
import { createTestDatabase } from '../test/support/database.ts';
import { freePort, startServer } from '../test/support/process.ts';
import { spawnFormhub, type Child } from '../test/support/resilience.ts';
import { cpuOf, cpuSince, cpuSnapshot, machineBusyPercent } from './support/cpu.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './support/rate-limits.ts';
import { startReceiverProcess, type ReceiverProcess } from './support/receiver-process.ts';
import { backendPids, clearRedis, postJson } from './support/servers.ts';
import { envInt, printTable, round } from './support/stats.ts';
import { BENCH_FORM, submissionBodies } from './support/workload.ts';

const N = envInt('WORKERS_DELIVERIES', 10_000);
const SEQUENCE = (process.env.WORKERS_SEQUENCE ?? '1,2,1,2').split(',').map(Number);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = `bench-workers-admin-${randomBytes(6).toString('hex')}`;
const SUBMIT_CONCURRENCY = 50;
/**
 * DATABASE_POOL_MAX of each hub process (the hub's default is 50). The PostgreSQL this runs
 * on is shared and allows 100 connections in all: three processes at 50 each ran it out
 * ("too many clients") while other sessions used it.
 */
const POOL_MAX = envInt('WORKERS_POOL_MAX', 10);

interface Phase {
  workers: number;
  perSecond: number;
  spanMs: number;
  resumeToLastMs: number;
  delivered: number;
  duplicates: number;
  machineBusyBefore: number;
  /** CPU ms per delivery while delivering. */
  cpu: { workers: number; postgres: number; redis: number; receiver: number };
  /** Workers' CPU ms per event while their relays filled the paused queue. */
  relayCpuPerEvent: number;
  /** Each worker process's share of the workers' CPU while delivering. */
  workerCpuShares: number[];
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POSTs every body to the form, SUBMIT_CONCURRENCY at a time; throws unless every one answered 201. */
async function submitAll(base: string, formId: string, bodies: string[]): Promise<void> {
  let next = 0;
  const statuses = new Map<number, number>();
  const lane = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${base}/api/v2/forms/${formId}/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: SUBMIT_CONCURRENCY }, lane));
  if (statuses.get(201) !== bodies.length)
    throw new Error(`submissions by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
}

interface Context {
  env: Record<string, string>;
  apiBase: string;
  key: string;
  queue: Queue;
  sql: pg.Pool;
  databaseUrl: string;
  receiver: ReceiverProcess;
  redisPid: number;
  bodies: string[];
}

async function runPhase(ctx: Context, index: number, workers: number): Promise<Phase> {
  const path = `/phase-${index}-w${workers}`;
  const form = await postJson(`${ctx.apiBase}/api/v2/forms`, ctx.key, {
    ...BENCH_FORM,
    title: `workers bench ${index}`,
  });
  const formId = String(form.id);
  await postJson(`${ctx.apiBase}/api/v2/forms/${formId}/webhooks`, ctx.key, {
    url: `${ctx.receiver.base}${path}`,
  });
  await ctx.queue.pause();
  const children: Child[] = [];
  try {
    for (let i = 0; i < workers; i++) children.push(spawnFormhub(['worker'], ctx.env));
    await until(
      async () => (await ctx.queue.getWorkersCount()) >= workers,
      90_000,
      `${workers} delivery workers connected`,
    );
    const pids = children.map((c) => c.child.pid!);
    const fillStart = cpuSnapshot(pids);
    await submitAll(ctx.apiBase, formId, ctx.bodies);
    await until(
      async () => {
        const { rows } = await ctx.sql.query<{ pending: number; deliveries: number }>(
          `SELECT (SELECT count(*)::int FROM outbox WHERE form_id = $1 AND dispatched_at IS NULL) AS pending,
                  (SELECT count(*)::int FROM deliveries d JOIN integrations i ON i.id = d.integration_id
                    WHERE i.form_id = $1) AS deliveries`,
          [formId],
        );
        return rows[0]!.pending === 0 && rows[0]!.deliveries === N;
      },
      120_000,
      'the relays moved every event into the paused queue',
    );
    const relayCpuPerEvent = cpuSince(fillStart, pids) / N;
    const machineBusyBefore = await machineBusyPercent();

    const backends = await backendPids(ctx.databaseUrl);
    const before = {
      workers: pids.map(cpuOf),
      postgres: cpuSnapshot(backends),
      redis: cpuOf(ctx.redisPid),
      receiver: cpuOf(ctx.receiver.pid),
    };
    const resumedAt = Date.now();
    await ctx.queue.resume();
    const summary = await ctx.receiver.waitFor(path, N, 300_000, N);
    const resumeToLastMs = summary.last! - resumedAt;
    const workerMs = pids.map((pid, i) => cpuOf(pid) - before.workers[i]!);
    const postgresMs = cpuSince(before.postgres, await backendPids(ctx.databaseUrl));
    const redisMs = cpuOf(ctx.redisPid) - before.redis;
    const receiverMs = cpuOf(ctx.receiver.pid) - before.receiver;
    const dump = await ctx.receiver.dump(path);
    const distinct = new Set(dump.webhookId).size;
    const spanMs = summary.last! - summary.first!;
    const workersTotal = workerMs.reduce((a, b) => a + b, 0);
    return {
      workers,
      perSecond: ((N - 1) * 1000) / spanMs,
      spanMs,
      resumeToLastMs,
      delivered: distinct,
      duplicates: dump.webhookId.length - distinct,
      machineBusyBefore,
      cpu: {
        workers: workersTotal / N,
        postgres: postgresMs / N,
        redis: redisMs / N,
        receiver: receiverMs / N,
      },
      relayCpuPerEvent,
      workerCpuShares: workerMs.map((ms) => (workersTotal > 0 ? ms / workersTotal : 0)),
    };
  } finally {
    for (const child of children) await child.stop(30_000);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(phases: Phase[], busyBefore: number) {
  printTable(
    `Deliveries per second, ${N.toLocaleString('en-US')} per phase, receiver-side (first to last arrival); CPU ms per delivery`,
    [
      'phase',
      'workers',
      'per s',
      'span s',
      'resume->last s',
      'delivered',
      'dup',
      'machine busy before',
      'worker CPU',
      'postgres',
      'redis',
      'receiver',
      'relay CPU/event',
      'CPU split',
    ],
    phases.map((p, i) => [
      i + 1,
      p.workers,
      Math.round(p.perSecond).toLocaleString('en-US'),
      round(p.spanMs / 1000, 2).toFixed(2),
      round(p.resumeToLastMs / 1000, 2).toFixed(2),
      p.delivered,
      p.duplicates,
      `${p.machineBusyBefore}%`,
      p.cpu.workers.toFixed(3),
      p.cpu.postgres.toFixed(3),
      p.cpu.redis.toFixed(3),
      p.cpu.receiver.toFixed(3),
      p.relayCpuPerEvent.toFixed(3),
      p.workerCpuShares.map((s) => `${Math.round(s * 100)}%`).join('/'),
    ]),
  );
  const byCount = new Map<number, number[]>();
  for (const p of phases) byCount.set(p.workers, [...(byCount.get(p.workers) ?? []), p.perSecond]);
  const one = median(byCount.get(1) ?? []);
  const two = median(byCount.get(2) ?? []);
  console.log(
    `\nmedian deliveries/s: 1 worker ${Math.round(one)}, 2 workers ${Math.round(two)}; ` +
      `2 / 1 = ${(two / one).toFixed(2)} (machine busy before the run: ${busyBefore}% of one core, 2 cores = 200%)`,
  );
  console.log(
    JSON.stringify({ bench: 'workers', deliveries: N, poolMax: POOL_MAX, busyBefore, phases }),
  );
}

async function main(): Promise<void> {
  const receiver = await startReceiverProcess({ RECEIVER_FAIL_RATE: '0' });
  const database = await createTestDatabase();
  const prefix = `bench-workers-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const sql = new pg.Pool({ connectionString: database.url, max: 2 });
  const queue = new Queue(DELIVERY_QUEUE, { connection: redis, prefix: `${prefix}bull` });
  let api: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const busyBefore = await machineBusyPercent();
    console.log(`machine busy before: ${busyBefore}% of one core (2 cores = 200%)`);
    const env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_MIN: '0',
      DATABASE_POOL_MAX: String(POOL_MAX),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      HOST: '127.0.0.1',
      FORMHUB_ADMIN_KEY: ADMIN,
      FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      ...OUT_OF_REACH_RATE_LIMITS,
      // The API only fills the outbox before the clock starts; on a busy machine its load
      // shedding would answer part of the fill 503 (it did, 1,403 of 10,000).
      LOAD_SHEDDING: 'false',
      LOG_LEVEL: 'warn',
    };
    const port = await freePort();
    api = await startServer(['api'], env, port);
    const apiBase = `http://127.0.0.1:${port}`;
    const ws = await postJson(`${apiBase}/api/v2/workspaces`, ADMIN, { name: 'bench workers' });
    const info = await redis.info('server');
    const ctx: Context = {
      env,
      apiBase,
      key: String(ws.api_key),
      queue,
      sql,
      databaseUrl: database.url,
      receiver,
      redisPid: Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0),
      bodies: submissionBodies(N),
    };
    const phases: Phase[] = [];
    for (const [i, workers] of SEQUENCE.entries()) {
      const phase = await runPhase(ctx, i + 1, workers);
      console.log(
        `phase ${i + 1}: ${workers} worker(s), ${Math.round(phase.perSecond)} deliveries/s, ` +
          `${phase.delivered} delivered, ${phase.duplicates} duplicates`,
      );
      phases.push(phase);
    }
    report(phases, busyBefore);
  } finally {
    await api?.stop();
    await queue.close();
    await sql.end();
    await database.drop();
    await clearRedis(REDIS_URL, prefix);
    redis.disconnect();
    await receiver.stop();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
process.exit(process.exitCode ?? 0);
