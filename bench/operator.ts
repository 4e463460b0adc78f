/**
 * Operator control benchmark (DESIGN.md section 4b, issue #16): delivery stats and
 * delivery retention at 1,000,000 logged attempts.
 *
 * 1. Seeding, in SQL (generate_series, in chunks): one workspace with a "history" webhook
 *    whose OPERATOR_ATTEMPTS attempts (OPERATOR_ATTEMPTS_PER_DELIVERY per delivery, the last
 *    one a 200 except for 1 in 20 deliveries, which die) are spread over the last 7 days,
 *    payloads of about 500 bytes; then the `delivery_stats` rows the worker would have
 *    written, aggregated from those attempts by SQL with the worker's own bucketing (5-minute
 *    rows, the same log-scale latency histogram), so that the stats answer equals the log.
 * 2. Stats: p50/p95/max of `GET /api/v2/webhooks/:id/stats?window=24h` and `?window=7d`
 *    (app.inject, OPERATOR_STATS_REQUESTS each after OPERATOR_STATS_WARMUP), next to the
 *    naive alternative in the same run: the same totals, buckets and latency quantiles
 *    computed by scanning delivery_attempts joined to deliveries (OPERATOR_NAIVE_RUNS each).
 *    The 7d totals of the two are checked to be equal. Target: stats p95 < 50 ms.
 * 3. Retention: the workspace's `retention.deliveries_days` is set to 1 (PATCH
 *    /api/v2/workspace), so the seeded deliveries older than a day (about 6 in 7) expire,
 *    and `deleteExpiredDeliveries` runs until it answers 0, each call timed (one DELETE
 *    statement per call here, one workspace: its time bounds how long its row locks are
 *    held). All the while, this process submits a response every OPERATOR_SUBMIT_EVERY_MS
 *    through the API (app.inject) to a second form whose webhook the in-process worker
 *    delivers to a bare node:http receiver on 127.0.0.1 (in this process too): each
 *    submission's latency and each delivery's time from submission to arrival are recorded,
 *    during a baseline of OPERATOR_BASELINE_S seconds before retention starts and during
 *    retention. A second connection polls pg_locks every OPERATOR_LOCK_POLL_MS for lock
 *    waits in the bench database and keeps the longest per waiting statement. Targets: no
 *    submission or delivery waits > 100 ms because of retention; the longest lock wait.
 *
 *   npm run bench:operator
 *
 * Environment: OPERATOR_ATTEMPTS (1000000), OPERATOR_ATTEMPTS_PER_DELIVERY (2),
 * OPERATOR_SEED_CHUNK (50000 deliveries per statement), OPERATOR_STATS_REQUESTS (200),
 * OPERATOR_STATS_WARMUP (30), OPERATOR_NAIVE_RUNS (20), OPERATOR_BASELINE_S (15),
 * OPERATOR_SUBMIT_EVERY_MS (20), OPERATOR_LOCK_POLL_MS (10), OPERATOR_RETENTION_BATCH (500,
 * the worker's), OPERATOR_RETENTION_CURSOR (1: one cursor for the drain, as the worker keeps
 * it; 0: every call starts at the cutoff, as before the cursor). PostgreSQL: a fresh database, dropped at the end; Redis: TEST_REDIS_URL
 * under a random prefix, removed at the end.
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import {
  deleteExpiredDeliveries,
  RETENTION_BATCH,
  type RetentionCursor,
} from '../src/delivery/retention.ts';
import { latencyHistogram, pendingCount, statsByBucket } from '../src/delivery/stats-queries.ts';
import { STATS_WINDOWS, type StatsWindow } from '../src/delivery/stats-read.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './support/rate-limits.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';
import { BENCH_FORM, submissionBodies } from './support/workload.ts';

const ATTEMPTS = envInt('OPERATOR_ATTEMPTS', 1_000_000);
const PER_DELIVERY = Math.max(1, envInt('OPERATOR_ATTEMPTS_PER_DELIVERY', 2));
const DELIVERIES = Math.ceil(ATTEMPTS / PER_DELIVERY);
const SEED_CHUNK = Math.max(1, envInt('OPERATOR_SEED_CHUNK', 50_000));
const STATS_REQUESTS = envInt('OPERATOR_STATS_REQUESTS', 200);
const STATS_WARMUP = envInt('OPERATOR_STATS_WARMUP', 30);
const NAIVE_RUNS = Math.max(1, envInt('OPERATOR_NAIVE_RUNS', 20));
const BASELINE_S = envInt('OPERATOR_BASELINE_S', 15);
const SUBMIT_EVERY_MS = Math.max(1, envInt('OPERATOR_SUBMIT_EVERY_MS', 20));
const LOCK_POLL_MS = Math.max(1, envInt('OPERATOR_LOCK_POLL_MS', 10));
const RETENTION_BATCH_SIZE = Math.max(1, envInt('OPERATOR_RETENTION_BATCH', RETENTION_BATCH));
/** 1 (the worker's way): one cursor for the whole drain; 0: every call starts at the cutoff. */
const RETENTION_CURSOR = envInt('OPERATOR_RETENTION_CURSOR', 1) === 1;
const STATS_TARGET_MS = 50;
const WAIT_TARGET_MS = 100;
/** Bounds of the loops that wait for something: never longer than this. */
const SETTLE_TIMEOUT_MS = 60_000;

async function api(hub: TestHub, key: string, method: 'POST' | 'PATCH', url: string, body: object) {
  const res = await hub.request({ method, url, key, payload: body });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string };
}

// --- receiver -------------------------------------------------------------------------------

const RESPONSE_ID = /"response":\{"id":"([0-9a-f-]{36})"/;

/** A bare receiver on 127.0.0.1: answers 200 once a body is in; records arrival per response id. */
async function startReceiver(): Promise<{
  server: Server;
  url: string;
  arrived: Map<string, number>;
}> {
  const arrived = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const id = RESPONSE_ID.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      if (id && !arrived.has(id)) arrived.set(id, at);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, arrived };
}

// --- seeding --------------------------------------------------------------------------------

/** Deliveries of `integrationId` over the last 7 days with PER_DELIVERY attempts each. */
async function seed(hub: TestHub, workspaceId: string, integrationId: string, formId: string) {
  const now = new Date();
  for (let start = 0; start < DELIVERIES; start += SEED_CHUNK) {
    const end = Math.min(DELIVERIES, start + SEED_CHUNK) - 1;
    await hub.db.query(
      `WITH src AS MATERIALIZED (
         SELECT g, gen_random_uuid() AS id, gen_random_uuid() AS event_id, gen_random_uuid() AS response_id,
           $5::timestamptz - random() * interval '7 days' AS at
         FROM generate_series($1::int, $2::int) g
       ), p AS (
         INSERT INTO delivery_payloads (delivery_id, payload)
         SELECT id, jsonb_build_object('id', event_id, 'type', 'response.submitted', 'created_at', at,
             'form', jsonb_build_object('id', $6::uuid, 'title', 'Operator bench'),
             'response', jsonb_build_object('id', response_id, 'form_id', $6::uuid,
               'data', jsonb_build_object('name', 'Ada Lovelace ' || g, 'email', 'ada' || g || '@example.com',
                 'department', 'Engineering', 'age', 20 + g % 50, 'satisfaction', 1 + g % 5,
                 'subscribed', g % 2 = 0, 'interests', jsonb_build_array('math', 'engines'),
                 'comment', 'The analytical engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.'),
               'completed', true, 'submitted_at', at, 'updated_at', at, 'metadata', '{}'::jsonb))
         FROM src
       ), d AS (
         INSERT INTO deliveries (id, workspace_id, integration_id, event_id, event_type, status,
           attempts, next_attempt_at, created_at, updated_at)
         SELECT id, $3, $4, event_id, 'response.submitted',
           CASE WHEN g % 20 = 0 THEN 'dead' ELSE 'succeeded' END, $7::int, NULL, at,
           at + ($7::int - 1) * interval '30 seconds'
         FROM src
         RETURNING id, status, created_at
       )
       INSERT INTO delivery_attempts (delivery_id, number, at, status_code, latency_ms, error, response_excerpt)
       SELECT d.id, n, least($5::timestamptz, d.created_at + (n - 1) * interval '30 seconds'),
         CASE WHEN n = $7::int AND d.status = 'succeeded' THEN 200 ELSE 503 END,
         (5 + random() * random() * 400)::int,
         CASE WHEN n = $7::int AND d.status = 'succeeded' THEN NULL ELSE 'HTTP 503' END,
         CASE WHEN n = $7::int AND d.status = 'succeeded' THEN 'ok' ELSE 'Service Unavailable' END
       FROM d, generate_series(1, $7::int) n`,
      [start, end, workspaceId, integrationId, now, formId, PER_DELIVERY],
    );
  }
  // What the worker's counters would hold: 5-minute rows, delivered/failed per attempt, dead on
  // the attempt that killed its delivery, latency in the log-scale buckets of stats-histogram.ts
  // (bucket 0 for < 1 ms, else 1 + floor(4 log2 ms), at most 63).
  await hub.db.query(
    `WITH a AS MATERIALIZED (
       SELECT to_timestamp(floor(extract(epoch FROM a.at) / 300) * 300) AS b,
         a.status_code BETWEEN 200 AND 299 AS ok,
         d.status = 'dead' AND a.number = d.attempts AS dead,
         CASE WHEN a.latency_ms < 1 THEN 0
              ELSE least(63, 1 + floor(4 * log(2::numeric, a.latency_ms::numeric)))::int END AS lb
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.integration_id = $1
     ), cells AS (
       SELECT b, count(*) FILTER (WHERE ok) AS delivered, count(*) FILTER (WHERE NOT ok) AS failed,
         count(*) FILTER (WHERE dead) AS dead
       FROM a GROUP BY b
     ), hist AS (
       SELECT b, lb, count(*) AS n FROM a GROUP BY b, lb
     ), arr AS (
       SELECT c.b, array_agg(coalesce(h.n, 0)::int ORDER BY i) AS latency
       FROM cells c CROSS JOIN generate_series(0, 63) i LEFT JOIN hist h ON h.b = c.b AND h.lb = i
       GROUP BY c.b
     )
     INSERT INTO delivery_stats (integration_id, bucket_start, delivered, failed_attempts, dead, filtered, latency)
     SELECT $1, c.b, c.delivered, c.failed, c.dead, 0, arr.latency FROM cells c JOIN arr ON arr.b = c.b`,
    [integrationId],
  );
  await hub.db.query('ANALYZE deliveries');
  await hub.db.query('ANALYZE delivery_attempts');
  await hub.db.query('ANALYZE delivery_stats');
}

// --- stats ----------------------------------------------------------------------------------

interface Totals {
  delivered: number;
  failed_attempts: number;
  dead: number;
}

/** The stats answer computed from the attempt log: what the counters replace. */
async function naiveStats(
  hub: TestHub,
  integrationId: string,
  window: StatsWindow,
  now = new Date(),
) {
  const { count, stepMs } = STATS_WINDOWS[window];
  const from = Math.floor(now.getTime() / stepMs) * stepMs - (count - 1) * stepMs;
  const until = from + count * stepMs;
  const params = [integrationId, from, stepMs, new Date(from), new Date(until)];
  const [buckets, quantiles, pending] = await Promise.all([
    hub.db.query<{ k: number; delivered: string; failed: string; dead: string }>(
      `SELECT floor((extract(epoch FROM a.at) * 1000 - $2) / $3)::integer AS k,
         count(*) FILTER (WHERE a.status_code BETWEEN 200 AND 299) AS delivered,
         count(*) FILTER (WHERE a.status_code NOT BETWEEN 200 AND 299) AS failed,
         count(*) FILTER (WHERE d.status = 'dead' AND a.number = d.attempts) AS dead
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
       WHERE d.integration_id = $1 AND a.at >= $4 AND a.at < $5
       GROUP BY 1`,
      params,
    ),
    hub.db.query<{ q: number[] | null }>(
      `SELECT percentile_disc(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY a.latency_ms) AS q
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
       WHERE d.integration_id = $1 AND a.at >= $2 AND a.at < $3`,
      [integrationId, new Date(from), new Date(until)],
    ),
    hub.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM deliveries d JOIN delivery_schedule s ON s.delivery_id = d.id
       WHERE d.integration_id = $1`,
      [integrationId],
    ),
  ]);
  const totals: Totals = { delivered: 0, failed_attempts: 0, dead: 0 };
  for (const row of buckets.rows) {
    totals.delivered += Number(row.delivered);
    totals.failed_attempts += Number(row.failed);
    totals.dead += Number(row.dead);
  }
  return { totals, quantiles: quantiles.rows[0]?.q ?? null, pending: Number(pending.rows[0]?.n) };
}

interface StatsRow {
  what: string;
  runs: number;
  p50: number;
  p95: number;
  max: number;
}

async function measureStats(hub: TestHub, key: string, integrationId: string) {
  const rows: StatsRow[] = [];
  const answers = new Map<StatsWindow, Totals & { latency_ms: { p50: number; p95: number } }>();
  for (const window of ['24h', '7d'] as const) {
    const url = `/api/v2/webhooks/${integrationId}/stats?window=${window}`;
    const samples = new Float64Array(STATS_REQUESTS);
    for (let i = 0; i < STATS_WARMUP + STATS_REQUESTS; i++) {
      const started = performance.now();
      const res = await hub.request({ method: 'GET', url, key });
      const ms = performance.now() - started;
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
      if (i >= STATS_WARMUP) samples[i - STATS_WARMUP] = ms;
      else if (i === 0) answers.set(window, res.json());
    }
    const p = percentiles(samples);
    rows.push({
      what: `GET stats ${window}`,
      runs: STATS_REQUESTS,
      p50: p.p50,
      p95: p.p95,
      max: p.max,
    });
  }
  // The three statements of the 7d read, each alone: where its time goes.
  {
    const { count, stepMs } = STATS_WINDOWS['7d'];
    const from = Math.floor(Date.now() / stepMs) * stepMs - (count - 1) * stepMs;
    const until = from + count * stepMs;
    const parts: [string, () => Promise<unknown>][] = [
      ['7d: buckets query', () => statsByBucket(hub.db, integrationId, from, until, stepMs)],
      ['7d: histogram query', () => latencyHistogram(hub.db, integrationId, from, until)],
      ['7d: pending query', () => pendingCount(hub.db, integrationId)],
    ];
    for (const [what, run] of parts) {
      const samples = new Float64Array(NAIVE_RUNS * 2);
      for (let i = 0; i < samples.length + 3; i++) {
        const started = performance.now();
        await run();
        if (i >= 3) samples[i - 3] = performance.now() - started;
      }
      const p = percentiles(samples);
      rows.push({ what, runs: samples.length, p50: p.p50, p95: p.p95, max: p.max });
    }
  }
  const naive = new Map<StatsWindow, Awaited<ReturnType<typeof naiveStats>>>();
  for (const window of ['24h', '7d'] as const) {
    naive.set(window, await naiveStats(hub, integrationId, window)); // warm-up, and the check
    const samples = new Float64Array(NAIVE_RUNS);
    for (let i = 0; i < NAIVE_RUNS; i++) {
      const started = performance.now();
      await naiveStats(hub, integrationId, window);
      samples[i] = performance.now() - started;
    }
    const p = percentiles(samples);
    rows.push({
      what: `naive scan ${window}`,
      runs: NAIVE_RUNS,
      p50: p.p50,
      p95: p.p95,
      max: p.max,
    });
  }
  // The counters must say what the log says (both read the same window; no traffic yet).
  for (const window of ['24h', '7d'] as const) {
    const a = answers.get(window)!;
    const n = naive.get(window)!.totals;
    if (a.delivered !== n.delivered || a.failed_attempts !== n.failed_attempts || a.dead !== n.dead)
      throw new Error(
        `stats ${window} ${JSON.stringify(a)} differ from the log ${JSON.stringify(n)}`,
      );
  }
  const seven = answers.get('7d')!;
  return { rows, seven, naiveQuantiles: naive.get('7d')!.quantiles };
}

// --- lock sampler ---------------------------------------------------------------------------

interface LockWait {
  query: string;
  mode: string;
  locktype: string;
  ms: number;
}

/** Polls pg_locks for waiting locks in this database; keeps the longest wait per waiter. */
async function startLockSampler(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const waits = new Map<string, LockWait>();
  let polls = 0;
  let running = true;
  const loop = (async () => {
    // Bounded by `stop`.
    while (running) {
      const started = performance.now();
      const { rows } = await client.query<{
        pid: number;
        waitstart: Date;
        ms: number;
        query: string;
        mode: string;
        locktype: string;
      }>(
        `SELECT l.pid, l.waitstart, extract(epoch FROM clock_timestamp() - l.waitstart) * 1000 AS ms,
           left(a.query, 120) AS query, l.mode, l.locktype
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE NOT l.granted AND a.datname = current_database() AND l.waitstart IS NOT NULL`,
      );
      polls += 1;
      for (const row of rows) {
        const id = `${row.pid}/${row.waitstart.getTime()}`;
        const ms = Number(row.ms);
        const seen = waits.get(id);
        if (!seen || seen.ms < ms)
          waits.set(id, { query: row.query, mode: row.mode, locktype: row.locktype, ms });
      }
      const rest = LOCK_POLL_MS - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      return { polls, waits: [...waits.values()].sort((a, b) => b.ms - a.ms) };
    },
  };
}

// --- traffic --------------------------------------------------------------------------------

interface Submission {
  at: number;
  ms: number;
  responseId: string;
  phase: 'baseline' | 'retention' | 'after';
}

function startTraffic(hub: TestHub, key: string, formId: string, phase: () => Submission['phase']) {
  const bodies = submissionBodies(200);
  const sent: Submission[] = [];
  let running = true;
  const loop = (async () => {
    // Bounded by `stop`.
    for (let i = 0; running; i++) {
      const at = performance.now();
      const p = phase();
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        key,
        headers: { 'content-type': 'application/json' },
        payload: bodies[i % bodies.length]!,
      });
      const ms = performance.now() - at;
      if (res.statusCode !== 201) throw new Error(`submit: ${res.statusCode} ${res.body}`);
      sent.push({ at, ms, responseId: (res.json() as { id: string }).id, phase: p });
      const rest = SUBMIT_EVERY_MS - (performance.now() - at);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

// --- run ------------------------------------------------------------------------------------

const loadBefore = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();
const receiver = await startReceiver();
const hub = await startHub(
  { LOG_LEVEL: 'silent', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', ...OUT_OF_REACH_RATE_LIMITS },
  { worker: true },
);
let result: Record<string, unknown> = {};
try {
  const ws = await hub.workspace('operator bench');
  const history = await api(hub, ws.key, 'POST', '/api/v2/forms', {
    ...BENCH_FORM,
    title: 'History',
  });
  const historyHook = await api(hub, ws.key, 'POST', `/api/v2/forms/${history.id}/webhooks`, {
    url: `${receiver.url}/history`,
  });
  const live = await api(hub, ws.key, 'POST', '/api/v2/forms', { ...BENCH_FORM, title: 'Live' });
  await api(hub, ws.key, 'POST', `/api/v2/forms/${live.id}/webhooks`, { url: receiver.url });

  const seedStarted = performance.now();
  await seed(hub, ws.id, historyHook.id, history.id);
  const seedS = (performance.now() - seedStarted) / 1000;
  const counted = await hub.db.query<{ d: string; a: string; bytes: string }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE integration_id = $1) AS d,
       (SELECT count(*) FROM delivery_attempts) AS a,
       (SELECT avg(pg_column_size(payload))::int FROM delivery_payloads) AS bytes`,
    [historyHook.id],
  );
  const seeded = { deliveries: Number(counted.rows[0]!.d), attempts: Number(counted.rows[0]!.a) };
  console.log(
    `seeded ${seeded.deliveries} deliveries, ${seeded.attempts} attempts (payload ${counted.rows[0]!.bytes} bytes stored) in ${round(seedS, 1)} s`,
  );

  // 2. Stats, before any traffic.
  const stats = await measureStats(hub, ws.key, historyHook.id);
  printTable(
    `Stats of one webhook with ${seeded.attempts} attempts logged (ms)`,
    ['query', 'runs', 'p50', 'p95', 'max'],
    stats.rows.map((r) => [r.what, r.runs, round(r.p50, 1), round(r.p95, 1), round(r.max, 1)]),
  );
  const apiP95 = Math.max(...stats.rows.filter((r) => r.what.startsWith('GET')).map((r) => r.p95));
  console.log(
    `7d: delivered ${stats.seven.delivered}, failed attempts ${stats.seven.failed_attempts}, dead ${stats.seven.dead} (equal to the log); latency p50/p95 ${stats.seven.latency_ms.p50}/${stats.seven.latency_ms.p95} ms from the histogram, ${stats.naiveQuantiles?.join('/')} ms exact; stats p95 target < ${STATS_TARGET_MS} ms: ${apiP95 < STATS_TARGET_MS ? 'met' : 'MISSED'}`,
  );

  // 3. Retention under traffic.
  const expiring = await hub.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM deliveries WHERE integration_id = $1 AND created_at < now() - interval '1 day'`,
    [historyHook.id],
  );
  let phase: Submission['phase'] = 'baseline';
  const locks = await startLockSampler(hub.config.database.url!);
  const traffic = startTraffic(hub, ws.key, live.id, () => phase);
  await new Promise((resolve) => setTimeout(resolve, BASELINE_S * 1000));
  await api(hub, ws.key, 'PATCH', '/api/v2/workspace', { retention: { deliveries_days: 1 } });
  phase = 'retention';
  const calls: number[] = [];
  let deleted = 0;
  // Index pages the drain touches: what walking past dead entries costs, whatever the load.
  const indexPages = async () => {
    const { rows } = await hub.db.query<{ n: string }>(
      `SELECT coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0) AS n
         FROM pg_statio_user_indexes WHERE indexrelname = 'deliveries_integration_idx'`,
    );
    return Number(rows[0]?.n ?? 0);
  };
  const pagesBefore = await indexPages();
  const retentionStarted = performance.now();
  const retentionStartedAt = Date.now();
  const cursor: RetentionCursor = new Map();
  // Bounded: every call deletes at least one delivery or ends the loop.
  for (;;) {
    const started = performance.now();
    const n = await deleteExpiredDeliveries(
      hub.db,
      new Date(),
      RETENTION_BATCH_SIZE,
      RETENTION_CURSOR ? cursor : new Map(),
    );
    calls.push(performance.now() - started);
    if (n === 0) break;
    deleted += n;
  }
  const retentionMs = performance.now() - retentionStarted;
  const retentionIndexPages = (await indexPages()) - pagesBefore;
  phase = 'after';
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const sent = await traffic.stop();
  const lockReport = await locks.stop();
  // Every submission's delivery arrives (bounded wait).
  const settleBy = performance.now() + SETTLE_TIMEOUT_MS;
  while (sent.some((s) => !receiver.arrived.has(s.responseId)) && performance.now() < settleBy)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const missing = sent.filter((s) => !receiver.arrived.has(s.responseId)).length;
  const left = await hub.db.query<{ d: string; a: string }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE integration_id = $1) AS d,
       (SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.integration_id = $1) AS a`,
    [historyHook.id],
  );
  const orphans = await hub.db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM delivery_attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id))
       + (SELECT count(*) FROM delivery_payloads p WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = p.delivery_id)) AS n`,
  );
  // More expire while the baseline runs: at least those counted before, none left behind.
  const stale = await hub.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM deliveries WHERE integration_id = $1 AND created_at < $2`,
    [historyHook.id, new Date(retentionStartedAt - 86_400_000)],
  );
  if (
    deleted < Number(expiring.rows[0]!.n) ||
    Number(stale.rows[0]!.n) !== 0 ||
    Number(orphans.rows[0]!.n) !== 0
  )
    throw new Error(
      `retention deleted ${deleted} (${expiring.rows[0]!.n} expired before), left ${stale.rows[0]!.n} expired and ${orphans.rows[0]!.n} orphan attempts or payloads`,
    );
  const attemptsDeleted = seeded.attempts - Number(left.rows[0]!.a);
  const callTimes = percentiles(Float64Array.from(calls));

  const phaseRows = (['baseline', 'retention'] as const).map((p) => {
    const of = sent.filter((s) => s.phase === p);
    const submit = percentiles(Float64Array.from(of.map((s) => s.ms)));
    const delivery = percentiles(
      Float64Array.from(
        of
          .filter((s) => receiver.arrived.has(s.responseId))
          .map((s) => receiver.arrived.get(s.responseId)! - s.at),
      ),
    );
    return { phase: p, n: of.length, submit, delivery };
  });
  printTable(
    `Submissions (one every ${SUBMIT_EVERY_MS} ms) and their deliveries, before and during retention (ms)`,
    ['phase', 'n', 'submit p50', 'p99', 'max', 'delivery p50', 'p99', 'max'],
    phaseRows.map((r) => [
      r.phase,
      r.n,
      round(r.submit.p50, 1),
      round(r.submit.p99, 1),
      round(r.submit.max, 1),
      round(r.delivery.p50, 1),
      round(r.delivery.p99, 1),
      round(r.delivery.max, 1),
    ]),
  );
  const longestLock = lockReport.waits[0];
  // Waits of a statement on the delivery tables (retention's row locks would show there).
  const deliveryLock = lockReport.waits.find((w) => /deliver/i.test(w.query));
  printTable(
    `Longest lock waits seen (${lockReport.polls} polls of pg_locks, every ${LOCK_POLL_MS} ms)`,
    ['ms', 'lock', 'waiting statement'],
    lockReport.waits
      .slice(0, 8)
      .map((w) => [
        round(w.ms, 1),
        `${w.locktype} ${w.mode}`,
        w.query.replace(/\s+/g, ' ').slice(0, 80),
      ]),
  );
  const during = phaseRows[1]!;
  const base = phaseRows[0]!;
  const rate = deleted / (retentionMs / 1000);
  console.log(
    `retention: ${deleted} deliveries and ${attemptsDeleted} attempts deleted in ${round(retentionMs / 1000, 1)} s (${round(rate)} deliveries/s, ${round(attemptsDeleted / (retentionMs / 1000))} attempts/s), ${calls.length} calls of ${RETENTION_BATCH_SIZE}; longest call ${round(callTimes.max, 1)} ms (call ${calls.indexOf(callTimes.max) + 1}; the first took ${round(calls[0]!, 1)} ms), p99 ${round(callTimes.p99, 1)} ms, p50 ${round(callTimes.p50, 1)} ms`,
  );
  const worstWait = Math.max(during.submit.max, during.delivery.max);
  console.log(
    `during retention: submission max ${round(during.submit.max, 1)} ms (baseline ${round(base.submit.max, 1)}), delivery max ${round(during.delivery.max, 1)} ms (baseline ${round(base.delivery.max, 1)}); longest lock wait ${longestLock ? round(longestLock.ms, 1) : 0} ms, on the delivery tables ${deliveryLock ? round(deliveryLock.ms, 1) : 0} ms; ${missing} deliveries missing; target no wait > ${WAIT_TARGET_MS} ms: ${worstWait <= WAIT_TARGET_MS && missing === 0 ? 'met' : 'MISSED'}`,
  );
  result = {
    attempts: seeded.attempts,
    deliveries: seeded.deliveries,
    seed_s: round(seedS, 1),
    stats_24h_p95_ms: round(stats.rows[0]!.p95, 1),
    stats_7d_p95_ms: round(stats.rows[1]!.p95, 1),
    naive_24h_p95_ms: round(stats.rows.find((r) => r.what === 'naive scan 24h')!.p95, 1),
    naive_7d_p95_ms: round(stats.rows.find((r) => r.what === 'naive scan 7d')!.p95, 1),
    stats_target_ms: STATS_TARGET_MS,
    retention_deleted: deleted,
    retention_attempts_deleted: attemptsDeleted,
    retention_s: round(retentionMs / 1000, 2),
    retention_deliveries_per_s: round(rate),
    retention_longest_call_ms: round(callTimes.max, 1),
    retention_cursor: RETENTION_CURSOR,
    retention_index_pages: retentionIndexPages,
    baseline_submit_p99_ms: round(base.submit.p99, 1),
    baseline_submit_max_ms: round(base.submit.max, 1),
    retention_submit_p99_ms: round(during.submit.p99, 1),
    retention_submit_max_ms: round(during.submit.max, 1),
    baseline_delivery_p99_ms: round(base.delivery.p99, 1),
    baseline_delivery_max_ms: round(base.delivery.max, 1),
    retention_delivery_p99_ms: round(during.delivery.p99, 1),
    retention_delivery_max_ms: round(during.delivery.max, 1),
    longest_lock_wait_ms: longestLock ? round(longestLock.ms, 1) : 0,
    longest_delivery_lock_wait_ms: deliveryLock ? round(deliveryLock.ms, 1) : 0,
    deliveries_missing: missing,
    wait_target_ms: WAIT_TARGET_MS,
  };
} finally {
  await hub.close();
  await new Promise((resolve) => receiver.server.close(resolve));
}
console.log(
  `load average before: ${loadBefore}; after: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`,
);
console.log(JSON.stringify({ bench: 'operator', ...result }));
