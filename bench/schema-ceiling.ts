/**
 * Schema ceiling: throughput of the cached `GET /api/v2/forms/:id/schema` at saturation on
 * `formhub api --workers N` (cache on, started here as a child process on a fresh database;
 * N = SCHEMA_WORKERS, 1 by default: one process each, as issue #19's target is put),
 * next to a bare node:http server in N processes returning the same bytes and headers
 * (bench/support/load-bare-schema.ts). The load is closed-loop: `SCHEMA_CONNECTIONS`
 * keep-alive connections (undici Pool), each sending its next GET when the previous answer
 * has been read, for `SCHEMA_DURATION_S` after `SCHEMA_WARMUP_S` of warm-up. The two servers
 * run in turn, interleaved (`SCHEMA_ORDER`, default hub,bare,hub,bare), and the ratio uses
 * each one's median, since this machine is shared. Rate limits are on (a Redis round trip per
 * request, as in production) but out of reach; a 429 voids the run.
 *
 * Two ratios, because the load generator is one process: against the bare server it can use
 * a whole core and cap the bare side, so the req/s ratio then overstates the hub. The server
 * CPU time per request (all of a server's processes, from /proc, over requests answered) does
 * not depend on the client; the verdict takes the lower of the two.
 *
 *   npm run bench:schema        # node --import tsx bench/schema-ceiling.ts
 *
 * Environment: SCHEMA_CONNECTIONS (100), SCHEMA_DURATION_S (20), SCHEMA_WARMUP_S (3),
 * SCHEMA_ORDER (hub,bare,hub,bare), SCHEMA_WORKERS (1), BENCH_REDIS_URL.
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { freePort } from '../test/support/process.ts';
import { cpuSince, cpuSnapshot, machineCpuMs } from './support/cpu.ts';
import { benchScriptArgs } from './support/hub-node-flags.ts';
import { assertNotLimited, rateLimitCounted } from './support/rate-limits.ts';
import { clusterWorkerPids, createForms, startLoadHub } from './support/load-hub.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';

const CONNECTIONS = envInt('SCHEMA_CONNECTIONS', 100);
const DURATION_MS = envInt('SCHEMA_DURATION_S', 20) * 1000;
const WARMUP_MS = envInt('SCHEMA_WARMUP_S', 3) * 1000;
const ORDER = (process.env.SCHEMA_ORDER ?? 'hub,bare,hub,bare').split(',').map((s) => s.trim());
const WORKERS = envInt('SCHEMA_WORKERS', 1);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BARE_SERVER = fileURLToPath(new URL('./support/load-bare-schema.ts', import.meta.url));
/** Headers node:http writes itself (or that describe one connection), not copied to the bare server. */
const OWN_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
]);

interface Target {
  name: 'hub' | 'bare';
  base: string;
  path: string;
  pids: () => Promise<number[]>;
}

interface Run {
  name: string;
  reqPerSec: number;
  requests: number;
  errors: number;
  /** Answers 429 (also in `errors`). */
  tooMany: number;
  latency: ReturnType<typeof percentiles>;
  cpu: { server: number; loadgen: number; rest: number };
  /** CPU ms per answered request: the server's processes, and this load generator. */
  msPerRequest: { server: number; loadgen: number };
}

/** Below this, the target is missed (DESIGN.md section 5, docs/BENCHMARKS.md). */
const TARGET = 0.5;
/** A load generator over this share of a core (%) may be what bounds the server's req/s. */
const LOADGEN_BOUND_PERCENT = 85;

/** Closed-loop GETs on `CONNECTIONS` connections for `ms`; latencies only when `record`. */
async function hammer(pool: Pool, path: string, ms: number, record: boolean) {
  const latencies: number[] = [];
  let errors = 0;
  let tooMany = 0;
  let firstError: string | undefined;
  const deadline = performance.now() + ms;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path });
        await res.body.dump({ limit: 1 << 20 });
        if (res.statusCode !== 200) {
          errors++;
          if (res.statusCode === 429) tooMany++;
          firstError ??= String(res.statusCode);
        }
      } catch (error) {
        errors++;
        firstError ??= String((error as Error).message);
      }
      if (record) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  return { latencies, errors, tooMany, firstError };
}

async function measure(target: Target): Promise<Run> {
  const pool = new Pool(target.base, { connections: CONNECTIONS, keepAliveTimeout: 60_000 });
  try {
    await hammer(pool, target.path, WARMUP_MS, false);
    const pids = await target.pids();
    const before = {
      server: cpuSnapshot(pids),
      machine: machineCpuMs().busy,
      self: process.cpuUsage(),
    };
    const t0 = performance.now();
    const run = await hammer(pool, target.path, DURATION_MS, true);
    const wall = performance.now() - t0;
    const self = process.cpuUsage(before.self);
    const loadgenMs = (self.user + self.system) / 1000;
    const serverMs = cpuSince(before.server, pids);
    const machineMs = machineCpuMs().busy - before.machine;
    if (run.firstError)
      console.log(`${target.name}: ${run.errors} errors, first: ${run.firstError}`);
    const pct = (cpuMs: number) => Math.round((100 * cpuMs) / wall);
    const answered = Math.max(1, run.latencies.length);
    return {
      name: target.name,
      reqPerSec: (run.latencies.length - run.errors) / (wall / 1000),
      requests: run.latencies.length,
      errors: run.errors,
      tooMany: run.tooMany,
      latency: percentiles(Float64Array.from(run.latencies)),
      cpu: {
        server: pct(serverMs),
        loadgen: pct(loadgenMs),
        rest: pct(Math.max(0, machineMs - serverMs - loadgenMs)),
      },
      msPerRequest: {
        server: round(serverMs / answered, 4),
        loadgen: round(loadgenMs / answered, 4),
      },
    };
  } finally {
    await pool.close();
  }
}

/** The hub's answer to the schema GET: body bytes and the headers worth copying. */
async function captureSchema(
  url: string,
): Promise<{ body: string; headers: Record<string, string> }> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!OWN_HEADERS.has(name)) headers[name] = value;
  });
  return { body: Buffer.from(await res.arrayBuffer()).toString('base64'), headers };
}

async function startBare(payload: { body: string; headers: Record<string, string> }) {
  const port = await freePort();
  const child = spawn(process.execPath, benchScriptArgs(BARE_SERVER), {
    env: {
      ...process.env,
      PORT: String(port),
      BARE_WORKERS: String(WORKERS),
      BARE_PAYLOAD: JSON.stringify(payload),
    },
    stdio: 'inherit',
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(base).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error('the bare server did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, base };
}

/** A process's children, from /proc (the bare server's cluster workers). */
function childrenOf(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return tasks ? tasks.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const hub = await startLoadHub({
    workers: WORKERS,
    backgroundWorker: false,
    env: { CACHE_ENABLED: 'true' },
    apiPoolMax: 10,
    workerPoolMax: 4,
    redisUrl: REDIS_URL,
  });
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    const { formIds } = await createForms(hub, 1);
    const path = `/api/v2/forms/${formIds[0]}/schema`;
    const payload = await captureSchema(hub.base + path);
    bare = await startBare(payload);
    const bareChild = bare.child;
    const targets: Record<string, Target> = {
      hub: {
        name: 'hub',
        base: hub.base,
        path,
        pids: async () => [(await hub.pids()).primary, ...(await clusterWorkerPids(hub.base))],
      },
      bare: {
        name: 'bare',
        base: bare.base,
        path,
        pids: async () => [bareChild.pid!, ...childrenOf(bareChild.pid!)],
      },
    };
    const runs: Run[] = [];
    for (const name of ORDER) {
      const target = targets[name];
      if (!target) throw new Error(`SCHEMA_ORDER: unknown server "${name}" (use hub, bare)`);
      console.log(`${name}: ${CONNECTIONS} connections, ${DURATION_MS / 1000} s...`);
      runs.push(await measure(target));
    }
    const counted = await rateLimitCounted(REDIS_URL, hub.redisPrefix);
    report(runs, Buffer.from(payload.body, 'base64').length, Object.keys(payload.headers), counted);
    for (const run of runs) assertNotLimited(run.name, run.tooMany);
  } finally {
    if (bare && bare.child.exitCode === null) {
      const exited = new Promise((resolve) => bare!.child.once('exit', resolve));
      bare.child.kill('SIGTERM');
      await exited;
    }
    await hub.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The verdict from both ratios: the lower one decides, and a capped bare side is said aloud. */
function verdict(throughput: number, cpu: number, bareLoadgenPercent: number): string {
  const capped = bareLoadgenPercent >= LOADGEN_BOUND_PERCENT;
  const lower = Math.min(throughput, cpu);
  const why = capped
    ? `; the load generator used ${bareLoadgenPercent}% of a core against the bare server, so its req/s was bounded by the client and the req/s ratio overstates the hub`
    : '';
  return `${lower >= TARGET ? 'met' : 'MISSED'} (req/s ${throughput.toFixed(2)}, server CPU ${cpu.toFixed(2)}, target >= ${TARGET}${why})`;
}

function report(runs: Run[], bodyBytes: number, headers: string[], limiterCounted: number): void {
  const ms = (v: number) => v.toFixed(1);
  printTable(
    `Schema ceiling: GET /api/v2/forms/:id/schema (${bodyBytes} bytes), ${CONNECTIONS} connections, ` +
      `${DURATION_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up, ${WORKERS} server process${WORKERS === 1 ? '' : 'es'} each`,
    [
      'server',
      'req/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'errors',
      '429s',
      'server CPU',
      'loadgen CPU',
      'rest',
      'server ms/req',
      'loadgen ms/req',
    ],
    runs.map((r) => [
      r.name === 'hub'
        ? `formhub api --workers ${WORKERS}`
        : `bare node:http, ${WORKERS} process(es)`,
      Math.round(r.reqPerSec).toLocaleString('en-US'),
      ms(r.latency.p50),
      ms(r.latency.p95),
      ms(r.latency.p99),
      r.errors,
      r.tooMany,
      `${r.cpu.server}%`,
      `${r.cpu.loadgen}%`,
      `${r.cpu.rest}%`,
      r.msPerRequest.server.toFixed(4),
      r.msPerRequest.loadgen.toFixed(4),
    ]),
  );
  const of = (name: string, pick: (r: Run) => number) =>
    runs.filter((r) => r.name === name).map(pick);
  const both =
    of('hub', (r) => r.reqPerSec).length > 0 && of('bare', (r) => r.reqPerSec).length > 0;
  const ratio = both
    ? median(of('hub', (r) => r.reqPerSec)) / median(of('bare', (r) => r.reqPerSec))
    : null;
  // Bare CPU per request over the hub's: the share of the bare server's capacity the hub would reach on the same CPU.
  const cpuRatio = both
    ? median(of('bare', (r) => r.msPerRequest.server)) /
      median(of('hub', (r) => r.msPerRequest.server))
    : null;
  const bareLoadgen = both ? Math.round(median(of('bare', (r) => r.cpu.loadgen))) : 0;
  console.log(`\ncopied headers: ${headers.join(', ')}`);
  console.log(
    `rate limiter: on, counted ${limiterCounted.toLocaleString('en-US')} requests in Redis; 429 answers: ${runs.reduce((n, r) => n + r.tooMany, 0)}`,
  );
  if (ratio !== null && cpuRatio !== null) {
    console.log(`ratio formhub / bare (req/s, medians): ${ratio.toFixed(2)}`);
    console.log(
      `ratio bare / formhub (server CPU ms per request, medians): ${cpuRatio.toFixed(2)}`,
    );
    console.log(`verdict: ${verdict(ratio, cpuRatio, bareLoadgen)}`);
  }
  console.log(
    JSON.stringify({
      bench: 'schema-ceiling',
      connections: CONNECTIONS,
      duration_s: DURATION_MS / 1000,
      body_bytes: bodyBytes,
      rate_limiter_counted: limiterCounted,
      runs: runs.map((r) => ({
        server: r.name,
        req_per_s: round(r.reqPerSec, 1),
        requests: r.requests,
        errors: r.errors,
        rate_limited_429: r.tooMany,
        p50_ms: round(r.latency.p50),
        p95_ms: round(r.latency.p95),
        p99_ms: round(r.latency.p99),
        cpu_percent_of_core: r.cpu,
        cpu_ms_per_request: r.msPerRequest,
      })),
      ratio: ratio === null ? null : round(ratio, 3),
      cpu_ratio: cpuRatio === null ? null : round(cpuRatio, 3),
      target_met: ratio !== null && cpuRatio !== null && Math.min(ratio, cpuRatio) >= TARGET,
    }),
  );
}

await main();
