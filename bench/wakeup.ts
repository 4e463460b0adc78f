/**
 * Wake-up benchmark (DESIGN.md sections 4c and 5: "an idle hub delivers a submission to a
 * webhook in p95 < 50 ms"): on an otherwise idle `formhub serve`, one submission at a time,
 * the time from its 201 to the arrival of its webhook at a receiver (a bare node:http
 * server in a process of its own, bench/support/webhook-receiver.ts). Each backend
 * (PostgreSQL, embedded PGlite) runs twice in the same run, on a fresh database each:
 *
 * - `notify`: the default, the relay woken by the outbox's NOTIFY (its poll 1 s, a fallback);
 * - `poll`: OUTBOX_LISTEN=false, the relay polling every 100 ms, as before the wake-up.
 *
 * The two hubs of a backend run side by side, idle between submissions, and the submissions
 * alternate between them (one at a time, each once the previous one has arrived, after a
 * random 0-100 ms pause so that it falls anywhere in the poll's period): both modes see the
 * same machine load. bench/delivery.ts's latency part measures
 * the same path at an open-loop rate (20/s), which is no longer "idle".
 *
 *   npm run bench:wakeup
 *
 * Part 2 (`commit-cost`, bench/support/notify-cost.ts): what a NOTIFY costs the commits of
 * events on PostgreSQL, whose notifying commits take one database-wide lock until flushed:
 * concurrent one-row inserts with no NOTIFY, with a trigger that NOTIFYs in the transaction,
 * and with the hub's OutboxNotifier after the commit.
 *
 * Environment: WAKEUP_PARTS (latency,commit-cost), WAKEUP_SUBMISSIONS (200 per run),
 * WAKEUP_WARMUP (20), WAKEUP_BACKENDS (postgres,embedded), WAKEUP_MODES (notify,poll),
 * WAKEUP_COST_CLIENTS (32), WAKEUP_COST_SECONDS (5 per phase), WAKEUP_COST_ROUNDS (3),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { freePort, startServer } from '../test/support/process.ts';
import { machineBusyPercent } from './support/cpu.ts';
import { measureCommitCost, type CommitCost } from './support/notify-cost.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './support/rate-limits.ts';
import { startReceiverProcess, type ReceiverProcess } from './support/receiver-process.ts';
import { clearRedis } from './support/servers.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';
import { BENCH_FORM, submissionBodies } from './support/workload.ts';

const SUBMISSIONS = envInt('WAKEUP_SUBMISSIONS', 200);
const WARMUP = envInt('WAKEUP_WARMUP', 20);
const BACKENDS = (process.env.WAKEUP_BACKENDS ?? 'postgres,embedded').split(',');
const MODES = (process.env.WAKEUP_MODES ?? 'notify,poll').split(',');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGET_MS = 50;
const PARTS = new Set((process.env.WAKEUP_PARTS ?? 'latency,commit-cost').split(','));
const COST_CLIENTS = envInt('WAKEUP_COST_CLIENTS', 32);
const COST_SECONDS = envInt('WAKEUP_COST_SECONDS', 5);
const COST_ROUNDS = envInt('WAKEUP_COST_ROUNDS', 3);

type Pcts = { p50: number; p95: number; p99: number; max: number };
interface RunResult {
  backend: string;
  mode: string;
  received: number;
  /** 201 -> receiver. */
  fromCreated: Pcts;
  /** The API's own answer: sent -> 201. */
  api: Pcts;
  /** formhub_relay_wakeups_total by source at the end of the run. */
  wakeups: Record<string, number>;
  /** 201 -> the relay's pickup (outbox.dispatched_at); PostgreSQL only (the bench reads it there). */
  relay: Pcts | undefined;
}

const epoch = () => performance.timeOrigin + performance.now();
const pcts = (values: number[]): Pcts => {
  const p = percentiles(Float64Array.from(values));
  return { p50: round(p.p50, 1), p95: round(p.p95, 1), p99: round(p.p99, 1), max: round(p.max, 1) };
};

async function call(base: string, key: string, path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Where the hub under test keeps its data, and how to remove it. */
async function databaseFor(
  backend: string,
): Promise<{ env: Record<string, string>; url?: string; drop(): Promise<void> }> {
  if (backend === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'formhub-wakeup-'));
    return {
      env: { DATA_DIR: dir },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const database: TestDatabase = await createTestDatabase();
  return { env: { DATABASE_URL: database.url }, url: database.url, drop: () => database.drop() };
}

interface Subject {
  backend: string;
  mode: string;
  path: string;
  url: string;
  base: string;
  databaseUrl: string | undefined;
  sent: { id: string; sentAt: number; createdAt: number }[];
  stop(): Promise<void>;
}

/** A `formhub serve` in `mode` on a fresh database, with a form whose webhook is the receiver's `path`. */
async function startSubject(
  backend: string,
  mode: string,
  receiver: ReceiverProcess,
): Promise<Subject> {
  const database = await databaseFor(backend);
  const prefix = `formhub-bench:${randomBytes(4).toString('hex')}:`;
  const adminKey = `bench-admin-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const path = `/wakeup-${backend}-${mode}`;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const stop = async () => {
    if (server) {
      const child = server.child;
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await server.stop();
      clearTimeout(killer);
    }
    await database.drop();
    await clearRedis(REDIS_URL, prefix).catch(() => undefined);
  };
  try {
    server = await startServer(
      ['serve'],
      {
        ...database.env,
        HOST: '127.0.0.1',
        REDIS_URL,
        REDIS_PREFIX: prefix,
        FORMHUB_ADMIN_KEY: adminKey,
        FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ...OUT_OF_REACH_RATE_LIMITS,
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        LOG_LEVEL: 'error',
        ...(mode === 'poll' ? { OUTBOX_LISTEN: 'false', OUTBOX_POLL: '100ms' } : {}),
      },
      port,
      180_000,
    );
    const base = `http://127.0.0.1:${port}`;
    const ws = await call(base, adminKey, '/api/v2/workspaces', { name: 'bench wake-up' });
    const key = String(ws.api_key);
    const form = await call(base, key, '/api/v2/forms', BENCH_FORM);
    await call(base, key, `/api/v2/forms/${String(form.id)}/webhooks`, {
      url: `${receiver.base}${path}`,
    });
    const url = `${base}/api/v2/forms/${String(form.id)}/responses`;
    return { backend, mode, path, url, base, databaseUrl: database.url, sent: [], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One submission to `subject`, waited for until it has arrived at the receiver. */
async function submitOne(
  subject: Subject,
  n: number,
  body: string,
  record: boolean,
  agent: Agent,
  receiver: ReceiverProcess,
): Promise<void> {
  const sentAt = epoch();
  const res = await request(subject.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    dispatcher: agent,
  });
  const json = (await res.body.json()) as { id?: string };
  const createdAt = epoch();
  if (res.statusCode !== 201 || !json.id) throw new Error(`submission answered ${res.statusCode}`);
  if (record) subject.sent.push({ id: json.id, sentAt, createdAt });
  await receiver.waitFor(subject.path, n, 30_000);
}

async function resultOf(subject: Subject, receiver: ReceiverProcess): Promise<RunResult> {
  const wakeups = await wakeupsOf(subject.base);
  const dump = await receiver.dump(subject.path);
  const arrival = new Map<string, number>();
  dump.responseId.forEach((id, i) => {
    if (!arrival.has(id)) arrival.set(id, dump.at[i]!);
  });
  const dispatched = subject.databaseUrl
    ? await dispatchTimes(subject.databaseUrl)
    : new Map<string, number>();
  const fromCreated: number[] = [];
  const api: number[] = [];
  const relay: number[] = [];
  for (const s of subject.sent) {
    const at = arrival.get(s.id);
    if (at === undefined) continue;
    fromCreated.push(at - s.createdAt);
    api.push(s.createdAt - s.sentAt);
    const pickedUp = dispatched.get(s.id);
    if (pickedUp !== undefined) relay.push(pickedUp - s.createdAt);
  }
  return {
    backend: subject.backend,
    mode: subject.mode,
    received: fromCreated.length,
    fromCreated: pcts(fromCreated),
    api: pcts(api),
    relay: relay.length > 0 ? pcts(relay) : undefined,
    wakeups,
  };
}

/**
 * One hub per mode on `backend`, all idle between submissions; submissions alternate between
 * them, one at a time, each after a random 0-100 ms pause: the modes share the machine's load.
 */
async function runBackend(backend: string, receiver: ReceiverProcess): Promise<RunResult[]> {
  const subjects: Subject[] = [];
  const agent = new Agent({ connections: 4 });
  try {
    for (const mode of MODES) subjects.push(await startSubject(backend, mode, receiver));
    const bodies = submissionBodies(WARMUP + SUBMISSIONS, 33);
    for (let i = 0; i < WARMUP + SUBMISSIONS; i++) {
      for (const subject of subjects) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
        await submitOne(subject, i + 1, bodies[i]!, i >= WARMUP, agent, receiver);
      }
    }
    const results: RunResult[] = [];
    for (const subject of subjects) results.push(await resultOf(subject, receiver));
    return results;
  } finally {
    await agent.close();
    for (const subject of subjects) await subject.stop();
  }
}

/** The relay's wake-ups so far, by source, from the hub's /metrics. */
async function wakeupsOf(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^formhub_relay_wakeups_total\{source="(\w+)"\} (\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

/** When the relay took each response's event (epoch ms), by response id. */
async function dispatchTimes(url: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ rid: string; at: number }>(
      `SELECT payload -> 'response' ->> 'id' AS rid, extract(epoch FROM dispatched_at) * 1000 AS at
       FROM outbox WHERE dispatched_at IS NOT NULL`,
    );
    return new Map(rows.map((r) => [r.rid, Number(r.at)]));
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const receiver = await startReceiverProcess();
  process.once('SIGINT', () => void receiver.stop().finally(() => process.exit(130)));
  const results: RunResult[] = [];
  try {
    const busyBefore = await machineBusyPercent();
    console.log(`machine busy before: ${busyBefore}% of one core (2 cores = 200%)`);
    for (const backend of PARTS.has('latency') ? BACKENDS : []) {
      for (const result of await runBackend(backend, receiver)) {
        results.push(result);
        console.log(
          `${result.backend} ${result.mode}: p95 ${result.fromCreated.p95} ms (${result.received} received), relay wake-ups ${JSON.stringify(result.wakeups)}`,
        );
      }
    }
    const cost: CommitCost[] = PARTS.has('commit-cost')
      ? await measureCommitCost(COST_CLIENTS, COST_SECONDS, COST_ROUNDS)
      : [];
    const busyAfter = await machineBusyPercent();
    printTable(
      `201 -> receiver, one submission at a time, ${SUBMISSIONS} per run (ms)`,
      [
        'backend',
        'relay wakes on',
        'p50',
        'p95',
        'p99',
        'max',
        '201 -> relay p50/p95',
        'API 201 p95',
        'received',
      ],
      results.map((r) => [
        r.backend,
        r.mode === 'notify' ? 'NOTIFY (poll 1 s)' : 'poll 100 ms only',
        r.fromCreated.p50,
        r.fromCreated.p95,
        r.fromCreated.p99,
        r.fromCreated.max,
        r.relay ? `${r.relay.p50} / ${r.relay.p95}` : '-',
        r.api.p95,
        r.received,
      ]),
    );
    for (const r of results.filter((r) => r.mode === 'notify'))
      console.log(
        `${r.backend}: p95 ${r.fromCreated.p95} ms (target < ${TARGET_MS}: ${r.fromCreated.p95 < TARGET_MS ? 'met' : 'MISSED'})`,
      );
    if (cost.length > 0)
      printTable(
        `Commit cost of the NOTIFY: ${COST_CLIENTS} clients, one-row autocommit inserts, ${COST_ROUNDS} x ${COST_SECONDS} s per table`,
        ['how', 'commits/s', 'commit p50 ms (median round)', 'commit p95 ms (median round)'],
        cost.map((c) => [
          {
            plain: 'no NOTIFY',
            trigger: 'NOTIFY in the transaction (trigger)',
            'after-commit': 'NOTIFY after commit (OutboxNotifier)',
          }[c.table],
          c.commitsPerSecond,
          c.p50,
          c.p95,
        ]),
      );
    console.log(`machine busy after: ${busyAfter}% of one core`);
    console.log(
      JSON.stringify({
        bench: 'wakeup',
        machine_busy_before_percent: busyBefore,
        machine_busy_after_percent: busyAfter,
        submissions: SUBMISSIONS,
        target_p95_ms: TARGET_MS,
        runs: results,
        commit_cost: cost,
      }),
    );
  } finally {
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
