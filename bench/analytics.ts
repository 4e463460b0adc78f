/**
 * Analytics benchmark (DESIGN.md section 5):
 *
 * 1. metrics: `GET /api/v2/analytics/forms/:id/metrics` on a form with 100,000 responses
 *    (served from the Redis aggregates), sequential and 20 concurrent, next to computing the
 *    same document with SQL on demand (`aggregatesFromSql` + `buildDocument`); target p95 < 20 ms.
 * 2. DSL: `POST /api/v2/analytics/forms/:id/query`, group-bys with filters over the same
 *    responses, next to running the compiled SQL directly; target < 200 ms; with the
 *    `EXPLAIN (ANALYZE, BUFFERS)` plan of each compiled statement.
 * 3. forecast: `trainModel`'s backtest error (WAPE, reported as "mape") over the last 4 weeks
 *    of 6 months of synthetic daily data, several seeds, next to the seasonal-naive forecast;
 *    and a search of node_modules for a real daily-count series to try it on.
 *
 * The hub runs in this process (test/support/hub.ts) on a fresh PostgreSQL database and a
 * random Redis prefix, listening on 127.0.0.1; requests go over real HTTP (undici, keep-alive).
 *
 *   node --import tsx bench/analytics.ts
 *
 * Environment: ANALYTICS_RESPONSES (100000), ANALYTICS_SEQUENTIAL (500 GETs), ANALYTICS_SQL_RUNS
 * (500, the same number of on-demand SQL computations), ANALYTICS_CONCURRENCY (20),
 * ANALYTICS_CONCURRENT_SECONDS (10), ANALYTICS_SQL_CONCURRENT_RUNS (100), ANALYTICS_DSL_RUNS (100
 * per query), ANALYTICS_FORECAST_SEEDS (10), ANALYTICS_PARTS (metrics,dsl,forecast), ANALYTICS_CPU_PROFILE
 * (0: 1 adds a sampling CPU profile of this process during the concurrent GETs).
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, request } from 'undici';
import { compileQuery, withFormId } from '../src/analytics/dsl/index.ts';
import { aggregatesFromSql, buildDocument } from '../src/analytics/metrics/index.ts';
import { FormService, type FormRow } from '../src/forms/index.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { ANALYTICS_FORM, insertResponses } from './support/analytics-data.ts';
import { cpuSince, cpuSnapshot, machineBusyPercent, machineCpuMs } from './support/cpu.ts';
import { startCpuProfile, type CpuProfileSummary } from './support/cpu-profile.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './support/rate-limits.ts';
import { backendPids } from './support/servers.ts';
import {
  forecastVerdict,
  runSyntheticBacktests,
  searchDailySeries,
  SCENARIOS,
  TODAY,
  type BacktestRow,
} from './support/forecast-backtest.ts';
import { installQueryProfile } from './support/query-profile.ts';
import { envFlag, envInt, percentiles, printTable, round } from './support/stats.ts';

const RESPONSES = envInt('ANALYTICS_RESPONSES', 100_000);
const SEQUENTIAL = envInt('ANALYTICS_SEQUENTIAL', 500);
const SQL_RUNS = envInt('ANALYTICS_SQL_RUNS', SEQUENTIAL);
const CONCURRENCY = envInt('ANALYTICS_CONCURRENCY', 20);
const CONCURRENT_SECONDS = envInt('ANALYTICS_CONCURRENT_SECONDS', 10);
const SQL_CONCURRENT_RUNS = envInt('ANALYTICS_SQL_CONCURRENT_RUNS', 100);
const DSL_RUNS = envInt('ANALYTICS_DSL_RUNS', 100);
const FORECAST_SEEDS = envInt('ANALYTICS_FORECAST_SEEDS', 10);
const CPU_PROFILE = envFlag('ANALYTICS_CPU_PROFILE', false);
const PARTS = new Set(
  (process.env.ANALYTICS_PARTS ?? 'metrics,dsl,forecast').split(',').map((p) => p.trim()),
);
const METRICS_TARGET_MS = 20;
const DSL_TARGET_MS = 200;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Pcts = { p50: number; p95: number; p99: number; max: number; n: number };

const pcts = (samples: number[]): Pcts => {
  const p = percentiles(Float64Array.from(samples));
  return {
    p50: round(p.p50, 2),
    p95: round(p.p95, 2),
    p99: round(p.p99, 2),
    max: round(p.max, 2),
    n: samples.length,
  };
};

interface Ctx {
  hub: TestHub;
  admin: pg.Client;
  base: string;
  key: string;
  form: FormRow;
  agent: Agent;
}

async function http(ctx: Ctx, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(`${ctx.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ctx.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: ctx.agent,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
  return { text, headers: res.headers };
}

async function timeEach(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    out.push(performance.now() - started);
  }
  return out;
}

/** `concurrency` loops for `seconds` (or until `maxRuns`); latencies and the rate. */
async function timeConcurrent(
  concurrency: number,
  seconds: number,
  maxRuns: number,
  fn: () => Promise<unknown>,
) {
  const out: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let issued = 0;
  const worker = async () => {
    while (performance.now() < deadline && issued < maxRuns) {
      issued++;
      const t0 = performance.now();
      await fn();
      out.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - started;
  return { latencies: out, perSecond: out.length / (ms / 1000) };
}

/** The statements of a metrics GET, by what they are for. */
function metricsLabel(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  if (s.includes('FROM api_keys') && s.startsWith('SELECT')) return 'auth: SELECT api_keys';
  if (s.startsWith('UPDATE api_keys SET last_used_at'))
    return 'auth: UPDATE api_keys (at most once a minute)';
  if (/^SELECT .* FROM forms/.test(s)) return 'forms.get: SELECT forms';
  if (s.includes('FROM outbox WHERE aggregated_at IS NULL'))
    return 'drain: SELECT outbox FOR UPDATE SKIP LOCKED';
  if (s.startsWith('UPDATE outbox SET aggregated_at')) return 'drain: UPDATE outbox';
  return s.slice(0, 60);
}

interface MetricsResult {
  coldMs: number;
  coldSource: string;
  warmSource: string;
  statementsPerGet: number;
  statementsPerGetDetail: { label: string; perGet: number }[];
  endpointSequential: Pcts;
  endpointConcurrent: Pcts & { perSecond: number };
  /** CPU ms per concurrent GET: this process (hub and HTTP client), PostgreSQL backends, everything else. */
  concurrentCpu: { process: number; postgres: number; others: number; machineBusyPercent: number };
  concurrentProfile: CpuProfileSummary | undefined;
  sqlSequential: Pcts;
  sqlConcurrent: Pcts & { perSecond: number };
  equal: boolean;
  documentBytes: number;
}

async function metricsPart(ctx: Ctx): Promise<MetricsResult> {
  const path = `/api/v2/analytics/forms/${ctx.form.id}/metrics`;
  const coldStarted = performance.now();
  const cold = await http(ctx, 'GET', path);
  const coldMs = performance.now() - coldStarted;
  const warm = await http(ctx, 'GET', path);
  await timeEach(50, () => http(ctx, 'GET', path));

  // What one GET asks of PostgreSQL (measured apart, so the timed runs carry no wrapper).
  const profile = installQueryProfile(ctx.hub.db, metricsLabel);
  const PROFILED = 50;
  await timeEach(PROFILED, () => http(ctx, 'GET', path));
  const stats = profile.stats();
  profile.uninstall();
  const statementsPerGetDetail = stats.map((s) => ({
    label: s.label,
    perGet: round(s.calls / PROFILED, 2),
  }));
  const statementsPerGet = round(
    stats.filter((s) => !s.label.startsWith('(transaction')).reduce((sum, s) => sum + s.calls, 0) /
      PROFILED,
    2,
  );

  const endpointSequential = pcts(await timeEach(SEQUENTIAL, () => http(ctx, 'GET', path)));
  const databaseUrl = ctx.hub.config.database.url!;
  const pgBefore = cpuSnapshot(await backendPids(databaseUrl));
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpuMs().busy;
  const wallBefore = performance.now();
  const profiler = CPU_PROFILE ? await startCpuProfile() : undefined;
  const concurrent = await timeConcurrent(CONCURRENCY, CONCURRENT_SECONDS, 1_000_000, () =>
    http(ctx, 'GET', path),
  );
  const concurrentProfile = await profiler?.stop();
  const self = process.cpuUsage(selfBefore);
  const selfMs = (self.user + self.system) / 1000;
  const pgMs = cpuSince(pgBefore, await backendPids(databaseUrl));
  const machineMs = machineCpuMs().busy - machineBefore;
  const gets = concurrent.latencies.length;
  const concurrentCpu = {
    process: round(selfMs / gets, 3),
    postgres: round(pgMs / gets, 3),
    others: round((machineMs - selfMs - pgMs) / gets, 3),
    machineBusyPercent: round((100 * machineMs) / (performance.now() - wallBefore), 0),
  };

  const onDemand = async () => {
    const now = new Date();
    const raw = await aggregatesFromSql(ctx.hub.db.reader, ctx.form.id, ctx.form.fields, now);
    return buildDocument(ctx.form.id, ctx.form.fields, raw, now);
  };
  await timeEach(3, onDemand);
  const sqlSequential = pcts(await timeEach(SQL_RUNS, onDemand));
  const sqlConcurrent = await timeConcurrent(CONCURRENCY, 3_600, SQL_CONCURRENT_RUNS, onDemand);

  // The endpoint's numbers must be PostgreSQL's (compared within one minute; retried once at a minute edge).
  let equal = false;
  for (let i = 0; i < 2 && !equal; i++) {
    const [served, computed] = await Promise.all([http(ctx, 'GET', path), onDemand()]);
    equal =
      served.text === JSON.stringify(computed) ||
      JSON.stringify(JSON.parse(served.text)) === JSON.stringify(computed);
  }
  return {
    coldMs: round(coldMs, 1),
    coldSource: String(cold.headers['x-metrics-source']),
    warmSource: String(warm.headers['x-metrics-source']),
    statementsPerGet,
    statementsPerGetDetail,
    endpointSequential,
    endpointConcurrent: {
      ...pcts(concurrent.latencies),
      perSecond: round(concurrent.perSecond, 0),
    },
    concurrentCpu,
    concurrentProfile,
    sqlSequential,
    sqlConcurrent: {
      ...pcts(sqlConcurrent.latencies),
      perSecond: round(sqlConcurrent.perSecond, 1),
    },
    equal,
    documentBytes: Buffer.byteLength(cold.text),
  };
}

interface DslResult {
  name: string;
  query: unknown;
  groups: number;
  endpoint: Pcts;
  sqlDirect: Pcts;
  plan: string;
}

function dslQueries() {
  const sixMonthsAgo = new Date(Date.now() - 182 * 86_400_000).toISOString().slice(0, 10);
  return [
    {
      name: 'avg hours by department, last 6 months, approved',
      query: {
        aggregate: 'avg',
        field: 'data.hours',
        group_by: 'data.department',
        filter: { submitted_at: { $gte: sixMonthsAgo }, 'data.approved': true },
      },
    },
    {
      name: 'count by month (date_trunc), completed',
      query: {
        aggregate: 'count',
        group_by: { date_trunc: 'month', field: 'submitted_at' },
        filter: { completed: true },
      },
    },
    {
      name: 'count by tag (multiselect), satisfaction >= 4',
      query: {
        aggregate: 'count',
        group_by: 'data.tags',
        filter: { 'data.satisfaction': { $gte: 4 } },
      },
    },
  ];
}

async function dslPart(ctx: Ctx): Promise<DslResult[]> {
  const results: DslResult[] = [];
  const path = `/api/v2/analytics/forms/${ctx.form.id}/query`;
  for (const { name, query } of dslQueries()) {
    const compiled = compileQuery(query, {
      fields: ctx.form.fields,
      calculatedKeys: ctx.form.calculated_fields.map((c) => c.key),
    });
    const params = withFormId(compiled.params, ctx.form.id);
    const first = JSON.parse((await http(ctx, 'POST', path, query)).text) as {
      result: Record<string, unknown>;
    };
    await timeEach(5, () => http(ctx, 'POST', path, query));
    const endpoint = pcts(await timeEach(DSL_RUNS, () => http(ctx, 'POST', path, query)));
    const sqlDirect = pcts(
      await timeEach(DSL_RUNS, () => ctx.hub.db.reader.query(compiled.sql, params)),
    );
    const { rows } = await ctx.admin.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${compiled.sql}`,
      params,
    );
    results.push({
      name,
      query,
      groups: Object.keys(first.result ?? {}).length,
      endpoint,
      sqlDirect,
      plan: [
        `-- ${compiled.sql}`,
        `-- params: ${JSON.stringify(params)}`,
        ...rows.map((r) => r['QUERY PLAN']),
      ].join('\n'),
    });
  }
  return results;
}

interface ForecastResult {
  rows: BacktestRow[];
  byScenario: {
    scenario: string;
    seeds: number;
    model: number;
    seasonalNaive: number;
    linear: number;
    wins: number;
    walkModelWape: number;
    walkNaiveWape: number;
    walkModelMape: number;
    walkNaiveMape: number;
  }[];
  search: { filesScanned: number; candidates: string[] };
  verdict: string;
}

function forecastPart(): ForecastResult {
  const rows = runSyntheticBacktests(FORECAST_SEEDS);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const byScenario = SCENARIOS.map((s) => {
    const of = rows.filter((r) => r.scenario === s.name);
    return {
      scenario: s.name,
      seeds: of.length,
      model: round(mean(of.map((r) => r.model)), 4),
      seasonalNaive: round(mean(of.map((r) => r.seasonalNaive)), 4),
      linear: round(mean(of.map((r) => r.linearTrendSeasonal ?? NaN)), 4),
      wins: of.filter((r) => r.model < r.seasonalNaive).length,
      walkModelWape: round(mean(of.map((r) => r.walkForward.modelWape)), 4),
      walkNaiveWape: round(mean(of.map((r) => r.walkForward.naiveWape)), 4),
      walkModelMape: round(mean(of.map((r) => r.walkForward.modelMape)), 4),
      walkNaiveMape: round(mean(of.map((r) => r.walkForward.naiveMape)), 4),
    };
  });
  const search = searchDailySeries(`${ROOT}node_modules`);
  return {
    rows,
    byScenario,
    search,
    verdict: forecastVerdict(byScenario, search.candidates.length),
  };
}

function report(
  metrics: MetricsResult | undefined,
  dsl: DslResult[] | undefined,
  forecast: ForecastResult | undefined,
) {
  const ms = (p: Pcts) => [
    p.p50.toFixed(2),
    p.p95.toFixed(2),
    p.p99.toFixed(2),
    p.max.toFixed(2),
    p.n,
  ];
  if (metrics) {
    printTable(
      `Metrics document of a form with ${RESPONSES.toLocaleString('en-US')} responses (${metrics.documentBytes} B), ms`,
      ['how', 'p50', 'p95', 'p99', 'max', 'runs', 'per s'],
      [
        ['GET /metrics, sequential (Redis aggregates)', ...ms(metrics.endpointSequential), '-'],
        [
          `GET /metrics, ${CONCURRENCY} concurrent`,
          ...ms(metrics.endpointConcurrent),
          metrics.endpointConcurrent.perSecond,
        ],
        ['SQL on demand, sequential', ...ms(metrics.sqlSequential), '-'],
        [
          `SQL on demand, ${CONCURRENCY} concurrent`,
          ...ms(metrics.sqlConcurrent),
          metrics.sqlConcurrent.perSecond,
        ],
      ],
    );
    console.log(
      `first GET (cold, source ${metrics.coldSource}): ${metrics.coldMs} ms; then source ${metrics.warmSource}; ` +
        `endpoint document equals the SQL one: ${metrics.equal}`,
    );
    console.log(
      `CPU per concurrent GET: this process (hub + client) ${metrics.concurrentCpu.process} ms, ` +
        `PostgreSQL ${metrics.concurrentCpu.postgres} ms, everything else on the machine ${metrics.concurrentCpu.others} ms ` +
        `(machine ${metrics.concurrentCpu.machineBusyPercent}% busy of 200%)`,
    );
    if (metrics.concurrentProfile) {
      printTable(
        `CPU profile of this process during the concurrent GETs (${metrics.concurrentProfile.busySamples} busy samples)`,
        ['place', 'share'],
        metrics.concurrentProfile.byPlace.map((p) => [p.place, `${(p.share * 100).toFixed(1)}%`]),
      );
      printTable(
        'Native frames by JavaScript caller',
        ['native frame <- caller', 'share'],
        metrics.concurrentProfile.nativeByCaller.map((f) => [
          f.what,
          `${(f.share * 100).toFixed(1)}%`,
        ]),
      );
    }
    console.log(
      `statements per GET: ${metrics.statementsPerGet} (${metrics.statementsPerGetDetail.map((d) => `${d.label} x${d.perGet}`).join('; ')})`,
    );
    console.log(
      `ratio SQL on demand / endpoint, sequential: p50 ${(metrics.sqlSequential.p50 / metrics.endpointSequential.p50).toFixed(1)}x, ` +
        `p95 ${(metrics.sqlSequential.p95 / metrics.endpointSequential.p95).toFixed(1)}x; ` +
        `endpoint p95 ${metrics.endpointSequential.p95} ms sequential, ${metrics.endpointConcurrent.p95} ms concurrent (target < ${METRICS_TARGET_MS})`,
    );
  }
  if (dsl) {
    printTable(
      `Query DSL over ${RESPONSES.toLocaleString('en-US')} responses, ${DSL_RUNS} sequential runs each, ms`,
      ['query', 'groups', 'endpoint p50', 'p95', 'p99', 'SQL alone p50', 'p95'],
      dsl.map((d) => [
        d.name,
        d.groups,
        d.endpoint.p50.toFixed(1),
        d.endpoint.p95.toFixed(1),
        d.endpoint.p99.toFixed(1),
        d.sqlDirect.p50.toFixed(1),
        d.sqlDirect.p95.toFixed(1),
      ]),
    );
    console.log(`target < ${DSL_TARGET_MS} ms`);
    for (const d of dsl) console.log(`\nEXPLAIN (ANALYZE, BUFFERS): ${d.name}\n${d.plan}`);
  }
  if (forecast) {
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    printTable(
      `Forecast backtest: WAPE over the last 4 weeks of 182 days (today ${TODAY}), mean of ${FORECAST_SEEDS} seeds`,
      [
        'series',
        'formhub model',
        'seasonal naive',
        'linear+dow (seed model)',
        'wins vs naive',
        'walk-fwd WAPE model/naive',
        'walk-fwd MAPE model/naive',
      ],
      forecast.byScenario.map((s) => [
        s.scenario,
        pct(s.model),
        pct(s.seasonalNaive),
        pct(s.linear),
        `${s.wins}/${s.seeds}`,
        `${pct(s.walkModelWape)} / ${pct(s.walkNaiveWape)}`,
        `${pct(s.walkModelMape)} / ${pct(s.walkNaiveMape)}`,
      ]),
    );
    console.log(
      `real daily-count series shipped in node_modules: ${forecast.search.candidates.length === 0 ? 'none found' : forecast.search.candidates.join(', ')} ` +
        `(${forecast.search.filesScanned} CSV/TSV/JSON/TXT files scanned)`,
    );
    console.log(`forecast verdict: ${forecast.verdict}`);
  }
  console.log(
    JSON.stringify({
      bench: 'analytics',
      responses: RESPONSES,
      metrics,
      dsl: dsl?.map((d) => ({ ...d, plan: undefined })),
      forecast: forecast
        ? { byScenario: forecast.byScenario, search: forecast.search, verdict: forecast.verdict }
        : undefined,
    }),
  );
}

async function main(): Promise<void> {
  const needsHub = PARTS.has('metrics') || PARTS.has('dsl');
  const busyBefore = await machineBusyPercent();
  console.log(
    `machine busy before: ${busyBefore}% of one core (2 cores = 200%); node ${process.version}`,
  );
  let metrics: MetricsResult | undefined;
  let dsl: DslResult[] | undefined;
  if (needsHub) {
    const hub = await startHub({
      DATABASE_POOL_MIN: '10',
      DATABASE_POOL_MAX: '50',
      ...OUT_OF_REACH_RATE_LIMITS,
      LOG_LEVEL: 'silent',
    });
    const admin = new pg.Client({ connectionString: hub.config.database.url });
    const agent = new Agent({ connections: CONCURRENCY + 4 });
    try {
      await admin.connect();
      const version = await admin.query<{ v: string }>(
        `SELECT current_setting('server_version') AS v`,
      );
      console.log(`PostgreSQL ${version.rows[0]?.v}`);
      await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (hub.app.server.address() as AddressInfo).port;
      const ws = await hub.workspace('bench analytics');
      const created = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key: ws.key,
        payload: ANALYTICS_FORM,
      });
      if (created.statusCode !== 201)
        throw new Error(`creating the form: ${created.statusCode} ${created.body}`);
      const formId = (created.json() as { id: string }).id;
      const form = await new FormService(hub.db).get(ws.id, formId);
      const loadStarted = performance.now();
      await insertResponses(
        admin,
        { workspaceId: ws.id, formId, formVersion: form.version },
        RESPONSES,
      );
      const loadMs = performance.now() - loadStarted;
      const vacuumStarted = performance.now();
      await admin.query('VACUUM ANALYZE responses');
      console.log(
        `loaded ${RESPONSES.toLocaleString('en-US')} responses in ${round(loadMs / 1000, 1)} s ` +
          `(INSERT ... SELECT generate_series), VACUUM ANALYZE in ${round((performance.now() - vacuumStarted) / 1000, 1)} s`,
      );
      const ctx: Ctx = { hub, admin, base: `http://127.0.0.1:${port}`, key: ws.key, form, agent };
      if (PARTS.has('metrics')) metrics = await metricsPart(ctx);
      if (PARTS.has('dsl')) dsl = await dslPart(ctx);
    } finally {
      await agent.close();
      await admin.end().catch(() => undefined);
      await hub.close();
    }
  }
  const forecast = PARTS.has('forecast') ? forecastPart() : undefined;
  report(metrics, dsl, forecast);
}

await main();
