/**
 * Load test: 1,000 concurrent virtual users with think time (a Locust-like scenario,
 * bench/support/load-scenario.ts) against a hub this script starts itself as child
 * processes on a fresh PostgreSQL database and a private Redis key prefix, in two
 * topologies (LOAD_TOPOLOGY, both by default, in the same run): `serve`, one `formhub serve`
 * process (API, relay and worker together: the default single-machine setup), and `split`,
 * `formhub api --workers 2` plus `formhub worker`. For each topology it runs once with the
 * cache off (`CACHE_ENABLED=false`) and once with it on, a fresh hub and database each time.
 * Target (issue #19): p95 < 20 ms for schema loads and submissions, in both topologies
 * (DESIGN.md section 5 asks < 100 ms). It reports per request kind
 * p50/p95/p99, throughput and errors by status, the cache hit rate per cache and layer
 * (the delta of `formhub_cache_hits_total` / `formhub_cache_misses_total` over the run),
 * Redis `INFO stats` keyspace hits and misses, and the CPU of every process involved,
 * this load generator included (it shares the machine's cores with the hub).
 *
 *   npm run bench:load          # node --import tsx bench/load.ts
 *
 * Environment: LOAD_USERS (1000), LOAD_DURATION_S (60), LOAD_RAMP_S (10), LOAD_THINK_MS
 * (1000-3000), LOAD_READ_SHARE_PCT (10), LOAD_FORMS (50), LOAD_ZIPF (1.0), LOAD_SEED (1),
 * LOAD_CONNECTIONS (1000), LOAD_TOPOLOGY (serve,split), LOAD_WORKERS (2, split's API
 * workers), LOAD_PHASES (off,on), LOAD_API_POOL (16 per cluster worker), LOAD_WORKER_POOL
 * (8), LOAD_SERVE_POOL (24: serve's one pool, split's API worker and worker together),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */

import { readFileSync } from 'node:fs';
import { machineBusyPercent } from './support/cpu.ts';
import { createForms, startLoadHub, type LoadHub, type Topology } from './support/load-hub.ts';
import {
  cacheDelta,
  cpuUsedSince,
  overallHitRates,
  pidsNamed,
  readCpu,
  redisKeyspace,
  scrapeCacheCounters,
  type CacheRow,
  type ProcessGroups,
} from './support/load-probes.ts';
import { REQUEST_KINDS, runScenario, type ScenarioResult } from './support/load-scenario.ts';
import { assertNotLimited } from './support/rate-limits.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';
import { submissionBodies } from './support/workload.ts';

const USERS = envInt('LOAD_USERS', 1000);
const DURATION_MS = envInt('LOAD_DURATION_S', 60) * 1000;
const RAMP_MS = envInt('LOAD_RAMP_S', 10) * 1000;
const [THINK_MIN, THINK_MAX] = (process.env.LOAD_THINK_MS ?? '1000-3000')
  .split('-')
  .map(Number) as [number, number];
const READ_SHARE = envInt('LOAD_READ_SHARE_PCT', 10) / 100;
const FORMS = envInt('LOAD_FORMS', 50);
const ZIPF = Number(process.env.LOAD_ZIPF ?? '1.0');
const SEED = envInt('LOAD_SEED', 1);
const CONNECTIONS = envInt('LOAD_CONNECTIONS', 1000);
const WORKERS = envInt('LOAD_WORKERS', 2);
const API_POOL = envInt('LOAD_API_POOL', 16);
const WORKER_POOL = envInt('LOAD_WORKER_POOL', 8);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PHASES = (process.env.LOAD_PHASES ?? 'off,on').split(',').map((p) => p.trim());
const SERVE_POOL = envInt('LOAD_SERVE_POOL', 24);
const TOPOLOGIES = (process.env.LOAD_TOPOLOGY ?? 'serve,split').split(',').map((t) => t.trim());
/** What each topology runs, for the tables. */
const TOPOLOGY_NAMES: Record<Topology, string> = {
  serve: 'formhub serve',
  split: `formhub api --workers ${WORKERS} + formhub worker`,
};
/** Issue #19's bound on schema loads' and submissions' p95, ms. */
const TARGET_P95_MS = 20;

interface PhaseResult {
  topology: Topology;
  phase: string;
  scenario: ScenarioResult;
  cache: CacheRow[];
  redis: { hits: number; misses: number };
  cpu: Record<string, number>;
  busyBefore: number;
  /** /proc/loadavg's 1-minute load at the end of the run: runnable processes on 2 cores. */
  loadAverage: number;
}

/** With `serve` the one process counts as the API workers' group (it is API and worker). */
async function groupsOf(hub: LoadHub, topology: Topology): Promise<ProcessGroups> {
  const pids = await hub.pids();
  return {
    primary: topology === 'serve' ? [] : [pids.primary],
    apiWorkers: topology === 'serve' ? [pids.primary] : pids.workers,
    background: pids.background ? [pids.background] : [],
    redis: pidsNamed('redis-server'),
  };
}

async function runPhase(topology: Topology, phase: string): Promise<PhaseResult> {
  if (phase !== 'on' && phase !== 'off')
    throw new Error(`LOAD_PHASES: unknown phase "${phase}" (use on, off)`);
  const hub = await startLoadHub({
    topology,
    workers: WORKERS,
    backgroundWorker: true,
    env: { CACHE_ENABLED: phase === 'on' ? 'true' : 'false' },
    apiPoolMax: topology === 'serve' ? SERVE_POOL : API_POOL,
    workerPoolMax: WORKER_POOL,
    redisUrl: REDIS_URL,
  });
  try {
    const { key, formIds } = await createForms(hub, FORMS);
    const busyBefore = await machineBusyPercent();
    const groups = await groupsOf(hub, topology);
    const cacheBefore = await scrapeCacheCounters(hub.base);
    const redisBefore = await redisKeyspace(REDIS_URL);
    const cpuStart = await readCpu(groups, hub.database.url);
    console.log(
      `${TOPOLOGY_NAMES[topology]}, cache ${phase}: ${USERS} users for ${DURATION_MS / 1000} s (ramp ${RAMP_MS / 1000} s)...`,
    );
    const scenario = await runScenario({
      base: hub.base,
      key,
      formIds,
      bodies: submissionBodies(1000),
      users: USERS,
      durationMs: DURATION_MS,
      rampMs: RAMP_MS,
      thinkMinMs: THINK_MIN,
      thinkMaxMs: THINK_MAX,
      readShare: READ_SHARE,
      conditionalShare: 0.5,
      zipf: ZIPF,
      seed: SEED,
      connections: CONNECTIONS,
      timeoutMs: 30_000,
    });
    const cpu = await cpuUsedSince(
      cpuStart,
      { ...groups, apiWorkers: (await groupsOf(hub, topology)).apiWorkers },
      hub.database.url,
    );
    const loadAverage = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    const redisAfter = await redisKeyspace(REDIS_URL);
    const cache = cacheDelta(cacheBefore, await scrapeCacheCounters(hub.base));
    return {
      topology,
      phase,
      scenario,
      cache,
      redis: {
        hits: redisAfter.hits - redisBefore.hits,
        misses: redisAfter.misses - redisBefore.misses,
      },
      cpu,
      busyBefore,
      loadAverage,
    };
  } finally {
    await hub.stop();
  }
}

/** A phase's name in the tables: topology, then cache on or off. */
const label = (r: PhaseResult) => `${r.topology}, cache ${r.phase}`;

const pct = (value: number | null) => (value === null ? '-' : `${(100 * value).toFixed(1)}%`);

function kindRows(result: PhaseResult) {
  const seconds = result.scenario.elapsedMs / 1000;
  return REQUEST_KINDS.map((kind) => {
    const k = result.scenario.kinds.get(kind)!;
    const lat = percentiles(Float64Array.from(k.latencies));
    const statuses = [...k.statuses.entries()]
      .sort()
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    return {
      kind,
      count: k.latencies.length,
      perSecond: k.latencies.length / seconds,
      ...lat,
      errors: k.errors,
      statuses,
    };
  });
}

/** CPU ms per answered request, per process group; `total` is the hub's (API, worker, PostgreSQL, Redis). */
function cpuPerRequest(r: PhaseResult): Record<string, string> {
  const requests = [...r.scenario.kinds.values()].reduce((n, k) => n + k.latencies.length, 0);
  const ms = (percent: number) => ((percent / 100) * r.scenario.elapsedMs) / Math.max(1, requests);
  const groups = ['apiWorkers', 'background', 'postgres', 'redis', 'loadgen'] as const;
  const out: Record<string, string> = {};
  for (const g of groups) out[g] = ms(r.cpu[g] ?? 0).toFixed(2);
  out.total = ms(
    (r.cpu.primary ?? 0) +
      (r.cpu.apiWorkers ?? 0) +
      (r.cpu.background ?? 0) +
      (r.cpu.postgres ?? 0) +
      (r.cpu.redis ?? 0),
  ).toFixed(2);
  return out;
}

function report(results: PhaseResult[]): void {
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  printTable(
    `Load: ${USERS} users, think ${THINK_MIN}-${THINK_MAX} ms, ${DURATION_MS / 1000} s (ramp ${RAMP_MS / 1000} s), ` +
      `${FORMS} forms (Zipf ${ZIPF}), reads ${Math.round(READ_SHARE * 100)}%; serve = ${TOPOLOGY_NAMES.serve}, split = ${TOPOLOGY_NAMES.split}`,
    [
      'phase',
      'request',
      'count',
      'req/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'errors',
      'statuses',
    ],
    results.flatMap((r) =>
      kindRows(r).map((k) => [
        label(r),
        k.kind,
        k.count,
        k.perSecond.toFixed(1),
        ms(k.p50),
        ms(k.p95),
        ms(k.p99),
        ms(k.max),
        k.errors,
        k.statuses,
      ]),
    ),
  );
  printTable(
    'Throughput and the load generator',
    ['phase', 'req/s', 'peak in flight', 'loadgen loop delay p99 ms', 'max ms'],
    results.map((r) => {
      const total = [...r.scenario.kinds.values()].reduce((n, k) => n + k.latencies.length, 0);
      return [
        label(r),
        (total / (r.scenario.elapsedMs / 1000)).toFixed(1),
        r.scenario.peakInFlight,
        r.scenario.loopDelayMs.p99.toFixed(1),
        r.scenario.loopDelayMs.max.toFixed(1),
      ];
    }),
  );
  printTable(
    'Cache counters over the run (cluster-wide /metrics), per cache and layer',
    ['phase', 'name', 'layer', 'hits', 'misses', 'hit rate', 'any layer'],
    results.flatMap((r) => {
      const overall = overallHitRates(r.cache);
      return r.cache.map((c) => [
        label(r),
        c.cache,
        c.layer,
        c.hits,
        c.misses,
        pct(c.hitRate),
        c.layer === 'l1' ? pct(overall.get(c.cache) ?? null) : '',
      ]);
    }),
  );
  printTable(
    'Redis INFO stats over the run (the whole server: other clients count too)',
    ['phase', 'keyspace_hits', 'keyspace_misses', 'hit rate'],
    results.map((r) => [
      label(r),
      r.redis.hits,
      r.redis.misses,
      pct(r.redis.hits / Math.max(1, r.redis.hits + r.redis.misses)),
    ]),
  );
  printTable(
    'CPU during the run, % of one core (2 cores = 200%)',
    [
      'phase',
      'api primary',
      'api workers (serve: its process)',
      'formhub worker',
      'postgres',
      'redis',
      'loadgen',
      'rest',
      'machine',
      'busy before',
    ],
    results.map((r) => [
      label(r),
      `${r.cpu.primary}%`,
      `${r.cpu.apiWorkers}%`,
      `${r.cpu.background}%`,
      `${r.cpu.postgres}%`,
      `${r.cpu.redis}%`,
      `${r.cpu.loadgen}%`,
      `${r.cpu.rest}%`,
      `${r.cpu.machine}%`,
      `${r.busyBefore}%`,
    ]),
  );
  printTable(
    'CPU ms per answered request (all kinds), the steadiest figure on a shared machine',
    [
      'phase',
      'api workers (serve: its process)',
      'formhub worker',
      'postgres',
      'redis',
      'loadgen',
      'hub total',
      'load avg 1m',
    ],
    results.map((r) => {
      const per = cpuPerRequest(r);
      return [
        label(r),
        per.apiWorkers!,
        per.background!,
        per.postgres!,
        per.redis!,
        per.loadgen!,
        per.total!,
        r.loadAverage.toFixed(1),
      ];
    }),
  );
  console.log(
    JSON.stringify({
      bench: 'load',
      users: USERS,
      duration_s: DURATION_MS / 1000,
      ramp_s: RAMP_MS / 1000,
      think_ms: [THINK_MIN, THINK_MAX],
      forms: FORMS,
      zipf: ZIPF,
      read_share: READ_SHARE,
      workers: WORKERS,
      serve_pool: SERVE_POOL,
      target_p95_ms: TARGET_P95_MS,
      phases: results.map((r) => ({
        topology: r.topology,
        cache: r.phase,
        seconds: round(r.scenario.elapsedMs / 1000, 1),
        kinds: kindRows(r).map((k) => ({
          kind: k.kind,
          count: k.count,
          req_per_s: round(k.perSecond, 1),
          p50_ms: round(k.p50),
          p95_ms: round(k.p95),
          p99_ms: round(k.p99),
          max_ms: round(k.max),
          errors: k.errors,
          statuses: Object.fromEntries(r.scenario.kinds.get(k.kind)!.statuses),
        })),
        peak_in_flight: r.scenario.peakInFlight,
        loadgen_loop_delay_ms: {
          p99: round(r.scenario.loopDelayMs.p99),
          max: round(r.scenario.loopDelayMs.max),
        },
        cache_counters: r.cache,
        redis_keyspace: r.redis,
        cpu_percent_of_core: r.cpu,
        machine_busy_before_percent: r.busyBefore,
        cpu_ms_per_request: cpuPerRequest(r),
        load_average_1m: r.loadAverage,
      })),
    }),
  );
}

/** p95 of schema loads and submissions against TARGET_P95_MS, one line per phase. */
function printVerdicts(results: PhaseResult[]): void {
  console.log('');
  for (const r of results) {
    const p95 = (kind: 'schema' | 'submit') =>
      percentiles(Float64Array.from(r.scenario.kinds.get(kind)!.latencies)).p95;
    const schema = p95('schema');
    const submit = p95('submit');
    const met = schema < TARGET_P95_MS && submit < TARGET_P95_MS;
    console.log(
      `${label(r)}: p95 schema ${schema.toFixed(1)} ms, submit ${submit.toFixed(1)} ms; ` +
        `target < ${TARGET_P95_MS} ms: ${met ? 'met' : 'MISSED'}`,
    );
  }
}

async function main(): Promise<void> {
  const results: PhaseResult[] = [];
  for (const topology of TOPOLOGIES) {
    if (topology !== 'serve' && topology !== 'split')
      throw new Error(`LOAD_TOPOLOGY: unknown topology "${topology}" (use serve, split)`);
    for (const phase of PHASES) results.push(await runPhase(topology, phase));
  }
  report(results);
  printVerdicts(results);
  for (const r of results)
    for (const [kind, tally] of r.scenario.kinds)
      assertNotLimited(`${label(r)} ${kind}`, tally.statuses.get('429') ?? 0);
}

await main();
