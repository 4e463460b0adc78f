/**
 * Load shedding: 1,000 connections in a closed loop (each sends its next request as soon
 * as the previous answer is read, no think time) against `formhub api --workers 2`, half
 * schema GETs and half anonymous submissions over 10 forms, once with load shedding off
 * (`LOAD_SHEDDING=false`) and once on, a fresh hub and database each time, in one run.
 * Production rate limits are on but out of reach (every connection comes from 127.0.0.1).
 * Reports per request kind: answers, 503s, other errors, p50/p99/max, and the share of
 * requests that took over 1 s and over 10 s (a request that got no answer within 60 s
 * counts as over 10 s).
 *
 *   npm run bench:shedding     # node --import tsx bench/load-shedding.ts
 *
 * Environment: SHED_CONNECTIONS (1000), SHED_DURATION_S (60), SHED_WARMUP_S (5),
 * SHED_PHASES (off,on), SHED_WORKERS (2), SHED_BACKOFF_MS (0: a shed client retries at
 * once), BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */

import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { createForms, startLoadHub } from './support/load-hub.ts';
import { assertNotLimited } from './support/rate-limits.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';
import { seededRandom, submissionBodies } from './support/workload.ts';

const CONNECTIONS = envInt('SHED_CONNECTIONS', 1000);
const DURATION_MS = envInt('SHED_DURATION_S', 60) * 1000;
const WARMUP_MS = envInt('SHED_WARMUP_S', 5) * 1000;
const WORKERS = envInt('SHED_WORKERS', 2);
const PHASES = (process.env.SHED_PHASES ?? 'off,on').split(',').map((p) => p.trim());
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BACKOFF_MS = envInt('SHED_BACKOFF_MS', 0);
const REQUEST_TIMEOUT_MS = 60_000;

type Kind = 'schema' | 'submit';

class Tally {
  readonly latencies: number[] = [];
  ok = 0;
  shed = 0;
  other = 0;
  /** 429s (also in `other`): the limits are out of reach, so any voids the run. */
  tooMany = 0;
  over1s = 0;
  over10s = 0;

  record(ms: number, status: number): void {
    this.latencies.push(ms);
    if (status >= 200 && status < 300) this.ok++;
    else if (status === 503) this.shed++;
    else this.other++;
    if (status === 429) this.tooMany++;
    if (ms > 1000) this.over1s++;
    if (ms > 10_000) this.over10s++;
  }
}

async function closedLoop(
  pool: Pool,
  formIds: string[],
  bodies: string[],
  until: number,
  tallies: Record<Kind, Tally> | undefined,
  seed: number,
) {
  const random = seededRandom(seed);
  let i = 0;
  while (Date.now() < until) {
    const kind: Kind = random() < 0.5 ? 'schema' : 'submit';
    const formId = formIds[Math.floor(random() * formIds.length)]!;
    const started = performance.now();
    let status = 0;
    try {
      const res = await pool.request(
        kind === 'schema'
          ? { method: 'GET', path: `/api/v2/forms/${formId}/schema` }
          : {
              method: 'POST',
              path: `/api/v2/forms/${formId}/responses`,
              headers: { 'content-type': 'application/json' },
              body: bodies[i++ % bodies.length]!,
            },
      );
      await res.body.text();
      status = res.statusCode;
    } catch {
      status = 0; // no answer within REQUEST_TIMEOUT_MS, or the socket was closed
    }
    const ms =
      status === 0 ? Math.max(performance.now() - started, 10_001) : performance.now() - started;
    tallies?.[kind].record(ms, status);
    // SHED_BACKOFF_MS > 0: a client that waits a little after a 503 (Retry-After, shortened);
    // 0 (default): one that retries at once, as a flood would.
    if (BACKOFF_MS > 0 && (status === 503 || status === 0)) {
      await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * (0.5 + random())));
    }
  }
}

async function phase(name: string) {
  const hub = await startLoadHub({
    workers: WORKERS,
    backgroundWorker: false,
    env: {
      // Rate limits: on but out of reach (startLoadHub's OUT_OF_REACH_RATE_LIMITS).
      LOAD_SHEDDING: name === 'on' ? 'true' : 'false',
    },
    apiPoolMax: 16,
    workerPoolMax: 4,
    redisUrl: REDIS_URL,
  });
  try {
    const { formIds } = await createForms(hub, 10);
    const bodies = submissionBodies(500);
    const pool = new Pool(hub.base, {
      connections: CONNECTIONS,
      keepAliveTimeout: 60_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const warmUntil = Date.now() + WARMUP_MS;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, c) =>
        closedLoop(pool, formIds, bodies, warmUntil, undefined, c + 1),
      ),
    );
    const tallies: Record<Kind, Tally> = { schema: new Tally(), submit: new Tally() };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, c) =>
        closedLoop(pool, formIds, bodies, started + DURATION_MS, tallies, 1000 + c),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    await pool.close();
    return { name, tallies, seconds, load1 };
  } finally {
    await hub.stop();
  }
}

const results = [];
for (const name of PHASES) {
  console.log(`phase ${name}: starting the hub`);
  results.push(await phase(name));
}
const rows = results.flatMap(({ name, tallies, seconds, load1 }) =>
  (Object.entries(tallies) as [Kind, Tally][]).map(([kind, t]) => {
    const n = t.latencies.length;
    const p = percentiles(Float64Array.from(t.latencies));
    return [
      name,
      kind,
      n,
      round(t.ok / seconds, 1),
      t.shed,
      t.other,
      round(p.p50),
      round(p.p99),
      round(p.max),
      `${round((100 * t.over1s) / n, 3)}%`,
      `${round((100 * t.over10s) / n, 3)}%`,
      load1 ?? '',
    ];
  }),
);
printTable(
  `Load shedding: ${CONNECTIONS} connections, closed loop, ${DURATION_MS / 1000} s per phase, ${WORKERS} API workers`,
  [
    'shedding',
    'kind',
    'requests',
    'ok/s',
    '503',
    'other err',
    'p50 ms',
    'p99 ms',
    'max ms',
    '> 1 s',
    '> 10 s',
    'load1 at start',
  ],
  rows,
);
console.log(
  JSON.stringify({
    bench: 'load-shedding',
    connections: CONNECTIONS,
    duration_s: DURATION_MS / 1000,
    workers: WORKERS,
    phases: results.map(({ name, tallies, seconds, load1 }) => ({
      shedding: name,
      seconds: round(seconds, 1),
      load1,
      kinds: Object.fromEntries(
        (Object.entries(tallies) as [Kind, Tally][]).map(([kind, t]) => {
          const p = percentiles(Float64Array.from(t.latencies));
          return [
            kind,
            {
              requests: t.latencies.length,
              ok: t.ok,
              shed_503: t.shed,
              other: t.other,
              rate_limited_429: t.tooMany,
              p50_ms: round(p.p50),
              p99_ms: round(p.p99),
              max_ms: round(p.max),
              over_1s: t.over1s,
              over_10s: t.over10s,
            },
          ];
        }),
      ),
    })),
  }),
);
for (const { name, tallies } of results)
  for (const [kind, t] of Object.entries(tallies) as [Kind, Tally][])
    assertNotLimited(`${name} ${kind}`, t.tooMany);
