/**
 * Submission throughput benchmark: `POST /api/v2/forms/:id/responses` on ONE hub process
 * (`node bin/formhub.js api`, rate limits on but out of reach, LOG_LEVEL=warn) against PostgreSQL, and the
 * same load on bare node:http servers (bench/baseline/bare-insert-server.ts) through a pg.Pool of the
 * same size. This process is only the load generator: each server runs in its own process, on its own
 * fresh database.
 *
 *   node --import tsx bench/submit.ts
 *
 * The verdict's baseline is `bare-same`: the hub's submission work without the framework (the same
 * validation with the hub's own validator, the same one statement writing the response and its outbox
 * row, the same NOTIFY after it, the same 201 body; bench/baseline/bare-same.ts). Target (issue #19):
 * formhub / bare-same >= 0.7 in req/s; server CPU per submission is printed beside it. `bare-sql` (the
 * hub's one statement, no validation, no NOTIFY) and `bare` (one plain INSERT, no outbox row) do less
 * than the hub; they are kept for comparison with earlier figures.
 *
 * Environment: SUBMIT_CONCURRENCY (50), SUBMIT_REQUESTS (20000), SUBMIT_WARMUP (2000),
 * SUBMIT_POOL_SIZE (50, the hub's default DATABASE_POOL_MAX), SUBMIT_BODIES (1000 distinct
 * bodies, used in turn), SUBMIT_CLIENT (fetch | http), SUBMIT_ORDER (hub,bare-same,hub,bare-same:
 * each server twice, interleaved, so that a burst of load from elsewhere on a shared
 * machine does not fall on one side only; the ratio uses each side's median; add `bare-sql`
 * and `bare` for the servers that do less), SUBMIT_HUB_NODE_ARGS (extra node flags for the hub
 * child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: a profile of the hub's submission path).
 */

import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { cpuOf, cpuSince, cpuSnapshot, machineBusyPercent, machineCpuMs } from './support/cpu.ts';
import { createLoadClient, runLoad, type LoadClient } from './support/load.ts';
import { assertNotLimited, rateLimitCounted } from './support/rate-limits.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';
import {
  backendPids,
  clearRedis,
  countResponses,
  KINDS,
  prepareBareDatabase,
  setUpForm,
  startBareProcess,
  startHubProcess,
  type Kind,
  type RunningServer,
  type ServerOptions,
} from './support/servers.ts';
import { submissionBodies } from './support/workload.ts';

const CONCURRENCY = envInt('SUBMIT_CONCURRENCY', 50);
const REQUESTS = envInt('SUBMIT_REQUESTS', 20_000);
const WARMUP = envInt('SUBMIT_WARMUP', 2_000);
const POOL_SIZE = envInt('SUBMIT_POOL_SIZE', 50);
const POOL_MIN = Math.min(10, POOL_SIZE);
const BODY_COUNT = envInt('SUBMIT_BODIES', 1_000);
const ORDER_TEXT = process.env.SUBMIT_ORDER ?? 'hub,bare-same,hub,bare-same';
const HUB_NODE_ARGS = (process.env.SUBMIT_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
const CLIENT = parseClient(process.env.SUBMIT_CLIENT ?? 'fetch');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVER_OPTIONS: ServerOptions = {
  poolSize: POOL_SIZE,
  poolMin: POOL_MIN,
  redisUrl: REDIS_URL,
  adminKey: `bench-admin-${randomBytes(12).toString('hex')}`,
};

interface Phase {
  kind: Kind;
  name: string;
  reqPerSec: number;
  sent: number;
  errors: number;
  /** Answers 429: must be 0 (the limits are out of reach). */
  tooMany: number;
  /** Requests the hub's rate limiter counted in Redis (null for the bare servers, which have none). */
  limiterCounted: number | null;
  firstError: string | undefined;
  latency: ReturnType<typeof percentiles>;
  seconds: number;
  /** CPU used during the measured run, in % of one core; `rest` is everything else on the machine. */
  cpu: { server: number; postgres: number; loadgen: number; rest: number; machine: number };
  /** How busy the machine was just before the run (servers idle), % of one core. */
  busyBefore: number;
  /** CPU ms per answered request: the steadiest figure on a shared machine. */
  perRequest: { server: number; postgres: number; loadgen: number };
  rowsStored: number;
}

function parseClient(text: string): LoadClient {
  if (text === 'fetch' || text === 'http') return text;
  throw new Error(`SUBMIT_CLIENT must be fetch or http (got "${text}")`);
}

const percentOfCore = (cpuMs: number, wallMs: number) => round((100 * cpuMs) / wallMs, 0);

async function measure(
  server: RunningServer,
  formId: string,
  bodies: string[],
  redisPrefix: string,
): Promise<Phase> {
  const client = createLoadClient(
    CLIENT,
    `${server.base}/api/v2/forms/${formId}/responses`,
    CONCURRENCY,
  );
  const load = { send: client.send, bodies, concurrency: CONCURRENCY, expectStatus: 201 };
  const warm = await runLoad({ ...load, requests: WARMUP });
  if (warm.errors > 0)
    throw new Error(`${server.name}: warm-up had ${warm.errors} errors, first: ${warm.firstError}`);
  const busyBefore = await machineBusyPercent();
  const before = {
    server: cpuOf(server.pid),
    postgres: cpuSnapshot(await backendPids(server.databaseUrl)),
    machine: machineCpuMs(),
  };
  const run = await runLoad({ ...load, requests: REQUESTS });
  client.close();
  const machine = machineCpuMs().busy - before.machine.busy;
  const serverMs = cpuOf(server.pid) - before.server;
  const postgresMs = cpuSince(before.postgres, await backendPids(server.databaseUrl));
  const wall = run.elapsedMs;
  return {
    kind: server.kind,
    name: server.name,
    reqPerSec: run.ok / (wall / 1000),
    sent: run.sent,
    errors: run.errors,
    tooMany: run.tooMany,
    limiterCounted: server.kind === 'hub' ? await rateLimitCounted(REDIS_URL, redisPrefix) : null,
    firstError: run.firstError,
    latency: percentiles(run.latencies),
    seconds: wall / 1000,
    cpu: {
      server: percentOfCore(serverMs, wall),
      postgres: percentOfCore(postgresMs, wall),
      loadgen: percentOfCore(run.cpuMs, wall),
      rest: percentOfCore(machine - serverMs - postgresMs - run.cpuMs, wall),
      machine: percentOfCore(machine, wall),
    },
    busyBefore,
    perRequest: {
      server: round(serverMs / run.sent, 3),
      postgres: round(postgresMs / run.sent, 3),
      loadgen: round(run.cpuMs / run.sent, 3),
    },
    rowsStored: await countResponses(server.databaseUrl),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `a` req/s over `b` req/s, from each one's median when SUBMIT_ORDER repeats them. */
function throughputRatio(phases: Phase[], a: Kind, b: Kind): number | null {
  const of = (kind: Kind) => phases.filter((p) => p.kind === kind).map((p) => p.reqPerSec);
  const over = of(a);
  const under = of(b);
  return over.length > 0 && under.length > 0 ? round(median(over) / median(under), 3) : null;
}

/**
 * `b`'s CPU ms per request over `a`'s (medians; the server process, plus its PostgreSQL
 * backends when `withPostgres`): the share of `b`'s throughput `a` would reach where CPU is
 * the limit. Unlike req/s it does not depend on how much of a busy machine each run got.
 */
function cpuRatio(phases: Phase[], a: Kind, b: Kind, withPostgres: boolean): number | null {
  const of = (kind: Kind) =>
    phases
      .filter((p) => p.kind === kind)
      .map((p) => p.perRequest.server + (withPostgres ? p.perRequest.postgres : 0));
  const over = of(a);
  const under = of(b);
  return over.length > 0 && under.length > 0 ? round(median(under) / median(over), 3) : null;
}

function report(phases: Phase[]): void {
  const ms = (v: number) => v.toFixed(1);
  const pct = (v: number) => `${v}%`;
  printTable(
    `Submissions: ${REQUESTS.toLocaleString('en-US')} requests after ${WARMUP.toLocaleString('en-US')} of warm-up, ` +
      `concurrency ${CONCURRENCY}, pool ${POOL_SIZE}, client ${CLIENT}`,
    [
      'server',
      'req/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'errors',
      '429s',
      'limiter counted',
    ],
    phases.map((p) => [
      p.name,
      Math.round(p.reqPerSec).toLocaleString('en-US'),
      ms(p.latency.p50),
      ms(p.latency.p95),
      ms(p.latency.p99),
      ms(p.latency.max),
      p.errors,
      p.tooMany,
      p.limiterCounted === null ? '-' : p.limiterCounted.toLocaleString('en-US'),
    ]),
  );
  printTable(
    'CPU during each run: % of one core (2 cores = 200%), and CPU ms per request',
    [
      'server',
      'server',
      'pg backends',
      'loadgen',
      'rest',
      'busy before',
      'server ms/req',
      'pg ms/req',
      'loadgen ms/req',
    ],
    phases.map((p) => [
      p.name,
      pct(p.cpu.server),
      pct(p.cpu.postgres),
      pct(p.cpu.loadgen),
      pct(p.cpu.rest),
      pct(p.busyBefore),
      p.perRequest.server.toFixed(2),
      p.perRequest.postgres.toFixed(2),
      p.perRequest.loadgen.toFixed(2),
    ]),
  );
  const same = throughputRatio(phases, 'hub', 'bare-same');
  const ratio = throughputRatio(phases, 'hub', 'bare');
  const sqlRatio = throughputRatio(phases, 'bare-sql', 'bare');
  const frameworkRatio = throughputRatio(phases, 'hub', 'bare-sql');
  const sameCpu = cpuRatio(phases, 'hub', 'bare-same', false);
  const sameCpuWithPg = cpuRatio(phases, 'hub', 'bare-same', true);
  console.log('');
  if (same !== null) {
    console.log(
      `ratio formhub / bare-same (req/s): ${same.toFixed(2)}, target >= 0.7: ${same >= 0.7 ? 'met' : 'MISSED'}`,
    );
  }
  if (sameCpu !== null && sameCpuWithPg !== null)
    console.log(
      `ratio bare-same / formhub by CPU ms per request: server ${sameCpu.toFixed(2)}, server + PostgreSQL ${sameCpuWithPg.toFixed(2)}`,
    );
  if (ratio !== null) console.log(`ratio formhub / bare (req/s): ${ratio.toFixed(2)}`);
  if (sqlRatio !== null)
    console.log(`ratio bare with the hub's SQL / bare (req/s): ${sqlRatio.toFixed(2)}`);
  if (frameworkRatio !== null)
    console.log(`ratio formhub / bare with the hub's SQL (req/s): ${frameworkRatio.toFixed(2)}`);
  const cpu = cpuRatio(phases, 'hub', 'bare', false);
  const cpuWithPg = cpuRatio(phases, 'hub', 'bare', true);
  if (cpu !== null && cpuWithPg !== null)
    console.log(
      `ratio bare / formhub by CPU ms per request: server ${cpu.toFixed(2)}, server + PostgreSQL ${cpuWithPg.toFixed(2)}`,
    );
  for (const p of phases) if (p.firstError) console.log(`${p.name}: first error: ${p.firstError}`);
  console.log(
    JSON.stringify({
      bench: 'submit',
      concurrency: CONCURRENCY,
      requests: REQUESTS,
      warmup: WARMUP,
      pool_size: POOL_SIZE,
      client: CLIENT,
      results: phases.map((p) => ({
        name: p.name,
        req_per_s: round(p.reqPerSec, 1),
        p50_ms: round(p.latency.p50),
        p95_ms: round(p.latency.p95),
        p99_ms: round(p.latency.p99),
        max_ms: round(p.latency.max),
        errors: p.errors,
        rate_limited_429: p.tooMany,
        rate_limiter_counted: p.limiterCounted,
        seconds: round(p.seconds, 2),
        cpu_percent_of_core: p.cpu,
        machine_busy_before_percent: p.busyBefore,
        cpu_ms_per_request: p.perRequest,
        rows_stored: p.rowsStored,
      })),
      ratio_hub_vs_bare_same: same,
      target_hub_vs_bare_same: 0.7,
      cpu_ratio_bare_same_vs_hub: sameCpu,
      cpu_ratio_bare_same_vs_hub_with_postgres: sameCpuWithPg,
      ratio_req_per_s: ratio,
      ratio_bare_sql_vs_bare: sqlRatio,
      ratio_hub_vs_bare_sql: frameworkRatio,
      cpu_ratio_bare_vs_hub: cpuRatio(phases, 'hub', 'bare', false),
      cpu_ratio_bare_vs_hub_with_postgres: cpuRatio(phases, 'hub', 'bare', true),
    }),
  );
}

function parseOrder(text: string): Kind[] {
  const order = text.split(',').map((part) => part.trim());
  for (const kind of order) {
    if (!KINDS.includes(kind as Kind))
      throw new Error(`SUBMIT_ORDER: unknown server "${kind}" (use ${KINDS.join(', ')})`);
  }
  return order as Kind[];
}

async function main(): Promise<void> {
  const order = parseOrder(ORDER_TEXT);
  const databases = new Map<Kind, TestDatabase>();
  for (const kind of new Set<Kind>(['hub', ...order]))
    databases.set(kind, await createTestDatabase());
  const redisPrefix = `formhub-bench:${randomBytes(4).toString('hex')}:`;
  const running = new Set<RunningServer>();
  const cleanup = async () => {
    for (const server of running) await server.stop().catch(() => undefined);
    for (const database of databases.values()) await database.drop();
    await clearRedis(REDIS_URL, redisPrefix).catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const bodies = submissionBodies(BODY_COUNT);
    const hubDatabase = databases.get('hub')!;
    const setup = await startHubProcess(SERVER_OPTIONS, hubDatabase, redisPrefix);
    running.add(setup);
    const ids = await setUpForm(SERVER_OPTIONS, setup);
    await setup.stop();
    running.delete(setup);
    for (const [kind, database] of databases)
      if (kind !== 'hub') await prepareBareDatabase(database, ids);
    const phases: Phase[] = [];
    for (const kind of order) {
      const database = databases.get(kind)!;
      const server =
        kind === 'hub'
          ? await startHubProcess(SERVER_OPTIONS, database, redisPrefix, HUB_NODE_ARGS)
          : await startBareProcess(SERVER_OPTIONS, kind, database, ids.workspaceId);
      running.add(server);
      phases.push(await measure(server, ids.formId, bodies, redisPrefix));
      await server.stop();
      running.delete(server);
    }
    report(phases);
    for (const p of phases) assertNotLimited(p.name, p.tooMany);
  } finally {
    await cleanup();
  }
}

await main();
