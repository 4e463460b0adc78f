/**
 * Delivery benchmark (DESIGN.md section 5, webhooks):
 *
 * 1. throughput: deliveries per second from ONE worker (DeliveryEngine + BullMQ worker,
 *    concurrency 50, webhook plugin with signing, attempt log in PostgreSQL) on a queue the
 *    real outbox relay pre-filled from N committed events, next to a bare loop of undici
 *    POSTs through the same kind of Agent with the same concurrency, and to BullMQ alone;
 *    ratio target >= 0.45 (issue #19: what BullMQ alone reached; it was 0.35). Phases:
 *    bare, BullMQ alone, an unmeasured engine warm-up, then DELIVERY_ROUNDS rounds of
 *    (engine, bare); the ratio is median engine / median bare.
 *    Each engine phase also reports what it did to the delivery tables of its database
 *    (row updates and their HOT share, buffer pages touched, bytes added, per delivery;
 *    bench/support/table-io.ts): counts that the machine's load does not move.
 * 2. latency: submission (201) -> receiver, p50/p95, on an idle `formhub serve`; target p95 < 50 ms.
 * 3. flaky: N submissions to a receiver failing 30% of requests at random, short retry
 *    schedule: delivered share, duplicates, attempts per delivery, dead, total time.
 *
 * The receiver (bench/support/webhook-receiver.ts) is a bare node:http server in a process of
 * its own. Everything runs on 127.0.0.1 against the local PostgreSQL and Redis, on fresh
 * databases and random Redis prefixes that are removed at the end.
 *
 *   node --import tsx bench/delivery.ts
 *
 * Environment: DELIVERY_PARTS (throughput,latency,flaky), DELIVERY_COUNT (20000),
 * DELIVERY_CONCURRENCY (50), DELIVERY_POOL_MAX (50, the hub's default DATABASE_POOL_MAX),
 * DELIVERY_WARMUP (2000 bare requests), DELIVERY_ENGINE_WARMUP (10000 deliveries), DELIVERY_ROUNDS (3), DELIVERY_PROFILE (0: 1 counts and times the
 * engine's SQL in the first round), DELIVERY_CPU_PROFILE (0: 1 takes a sampling CPU profile of
 * the first round; CPU_PROFILE_OUT=file keeps it raw; a profiled round is left out of the
 * ratio), DELIVERY_LATENCY_SUBMISSIONS (500),
 * DELIVERY_LATENCY_RATE (20 per second), DELIVERY_FLAKY_SUBMISSIONS (10000),
 * DELIVERY_FLAKY_CONCURRENCY (20), DELIVERY_FAIL_RATE (0.3), DELIVERY_RETRY_SCHEDULE
 * (100ms,200ms,500ms,1s,2s,5s), DELIVERY_SETTLE_TIMEOUT_S (900), DELIVERY_REPLAY_ROUNDS (10),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { execFileSync } from 'node:child_process';
import { runServeParts, type FlakyResult, type LatencyResult } from './support/delivery-serve.ts';
import {
  runThroughput,
  type EngineProfile,
  type ThroughputResult,
} from './support/delivery-throughput.ts';
import { machineBusyPercent } from './support/cpu.ts';
import { startReceiverProcess } from './support/receiver-process.ts';
import { envFlag, envInt, printTable, round } from './support/stats.ts';

const PARTS = new Set(
  (process.env.DELIVERY_PARTS ?? 'throughput,latency,flaky').split(',').map((p) => p.trim()),
);
const COUNT = envInt('DELIVERY_COUNT', 20_000);
const CONCURRENCY = envInt('DELIVERY_CONCURRENCY', 50);
const POOL_MAX = envInt('DELIVERY_POOL_MAX', 50);
const WARMUP = envInt('DELIVERY_WARMUP', 2_000);
const ENGINE_WARMUP = envInt('DELIVERY_ENGINE_WARMUP', 10_000);
const PROFILE = envFlag('DELIVERY_PROFILE', false);
const ROUNDS = envInt('DELIVERY_ROUNDS', 3);
const CPU_PROFILE = envFlag('DELIVERY_CPU_PROFILE', false);
const LATENCY_SUBMISSIONS = envInt('DELIVERY_LATENCY_SUBMISSIONS', 500);
const LATENCY_RATE = envInt('DELIVERY_LATENCY_RATE', 20);
const FLAKY_SUBMISSIONS = envInt('DELIVERY_FLAKY_SUBMISSIONS', 10_000);
const FLAKY_CONCURRENCY = envInt('DELIVERY_FLAKY_CONCURRENCY', 20);
const FAIL_RATE = Number(process.env.DELIVERY_FAIL_RATE ?? '0.3');
const RETRY_SCHEDULE = process.env.DELIVERY_RETRY_SCHEDULE ?? '100ms,200ms,500ms,1s,2s,5s';
const SETTLE_TIMEOUT_MS = envInt('DELIVERY_SETTLE_TIMEOUT_S', 900) * 1000;
const REPLAY_ROUNDS = envInt('DELIVERY_REPLAY_ROUNDS', 10);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATIO_TARGET = 0.45;
/** DESIGN.md section 5: "An idle hub delivers a submission to a webhook in p95 < 50 ms". */
const LATENCY_TARGET_MS = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The medians the ratios are made of. Engine phases measured with a profile on are left out
 * when there are others.
 */
function ratesOf(t: ThroughputResult) {
  const engines = t.phases.filter((p) => p.name === 'engine');
  const unprofiled = engines.filter((p) => !p.profiled);
  const engineRates = (unprofiled.length > 0 ? unprofiled : engines).map((p) => p.perSecond);
  const bareRates = t.phases.filter((p) => p.name === 'bare').map((p) => p.perSecond);
  const bullmq = t.phases.find((p) => p.name === 'bullmq')!.perSecond;
  return { engine: median(engineRates), bare: median(bareRates), bullmq, engineRates, bareRates };
}

function reportThroughput(t: ThroughputResult) {
  const rate = (v: number) => Math.round(v).toLocaleString('en-US');
  printTable(
    `Deliveries per second, ${COUNT.toLocaleString('en-US')} per phase, concurrency ${CONCURRENCY}, ` +
      `pool ${POOL_MAX}, receiver-side rate (first to last arrival)`,
    [
      'phase',
      'per s',
      'span s',
      'errors',
      'body B',
      'sender CPU',
      'receiver',
      'postgres',
      'redis',
      'machine',
      'sender ELU',
      'redis cmds/dlv',
    ],
    t.phases.map((p) => [
      p.name,
      rate(p.perSecond),
      round(p.spanMs / 1000, 2).toFixed(2),
      p.errors,
      p.bodyBytes,
      `${p.cpu.sender}%`,
      `${p.cpu.receiver}%`,
      `${p.cpu.postgres}%`,
      `${p.cpu.redis}%`,
      `${p.cpu.machine}%`,
      p.eventLoop.utilisation.toFixed(2),
      p.redisCallsPerDelivery,
    ]),
  );
  printTable(
    'CPU ms per delivery',
    [
      'phase',
      'sender',
      'receiver',
      'postgres',
      'redis',
      'loop delay p50/p99 ms',
      'top Redis commands per delivery',
    ],
    t.phases.map((p) => [
      p.name,
      p.cpuPerDelivery.sender.toFixed(3),
      p.cpuPerDelivery.receiver.toFixed(3),
      p.cpuPerDelivery.postgres.toFixed(3),
      p.cpuPerDelivery.redis.toFixed(3),
      `${p.eventLoop.delayP50}/${p.eventLoop.delayP99}`,
      p.redisTopCommands.map((c) => `${c.command} ${c.perDelivery}`).join(', '),
    ]),
  );
  const { engine, bare, bullmq, engineRates, bareRates } = ratesOf(t);
  console.log('');
  for (const [name, run] of Object.entries(t.engines)) {
    console.log(
      `${name}: relay pre-fill ${run.relay.events.toLocaleString('en-US')} events in ${round(run.relay.ms / 1000, 2)} s ` +
        `(${rate(run.relay.perSecond)} events/s); afterwards ${run.check.succeeded} succeeded, ` +
        `${run.check.distinctWebhookIds} distinct X-Webhook-Id, ${run.check.duplicateRequests} duplicate requests`,
    );
  }
  for (const [name, run] of Object.entries(t.engines)) {
    const parts = run.tables.tables.map(
      (x) =>
        `${x.table} ${x.pagesPerDelivery} pages, ${x.bytesPerDelivery} B` +
        (x.hotShare === null
          ? ''
          : `, ${x.updatesPerDelivery} updates (HOT ${(x.hotShare * 100).toFixed(1)}%)`),
    );
    console.log(
      `${name} tables per delivery: ${run.tables.pagesPerDelivery} pages touched, ${run.tables.bytesPerDelivery} B added; ${parts.join('; ')}`,
    );
  }
  console.log(
    `engine phases (per s): ${engineRates.map(rate).join(', ')}; bare phases: ${bareRates.map(rate).join(', ')}`,
  );
  console.log(
    `ratio engine / bare (median engine phase / median bare phase): ${(engine / bare).toFixed(3)} (target >= ${RATIO_TARGET})`,
  );
  console.log(`ratio BullMQ alone / bare: ${(bullmq / bare).toFixed(3)}`);
  console.log(`ratio engine / BullMQ alone: ${(engine / bullmq).toFixed(3)}`);
  for (const [name, run] of Object.entries(t.engines))
    if (run.profile) reportProfile(name, run.profile);
}

function reportProfile(name: string, prof: EngineProfile) {
  printTable(
    `${name}: SQL during the phase (${prof.queriesPerDelivery} statements per delivery; time from call to answer, pool wait included)`,
    ['statement', 'calls', 'per delivery', 'mean ms', 'max ms', 'total s'],
    prof.statements.map((s) => [
      s.label,
      s.calls,
      s.perDelivery,
      s.meanMs.toFixed(2),
      s.maxMs,
      round(s.totalMs / 1000, 1),
    ]),
  );
  // Claims and log writes are shared by concurrent attempts (one statement per batch), so a
  // statement's time cannot be split between the attempts that waited for it.
  console.log(
    `attempt(): mean ${prof.attempt.meanMs} ms, p50 ${prof.attempt.p50}, p95 ${prof.attempt.p95} ` +
      '(includes the waits for the batched claim and log write; batched SQL is not attributable to one attempt)',
  );
  console.log(
    `per job outside attempt() (concurrency / rate - mean attempt: BullMQ fetch + complete, event-loop queueing): ${prof.outsideAttemptMs} ms`,
  );
  console.log(
    `pg pool: mean ${prof.pool.meanInUse} connections in use, mean ${prof.pool.meanWaiting} callers waiting (max ${prof.pool.maxWaiting})`,
  );
  console.log(
    `PostgreSQL backends (pg_stat_activity, ${prof.waits.samples} samples): mean ${round(prof.waits.meanBusy, 1)} busy; ` +
      prof.waits.shares
        .slice(0, 6)
        .map((s) => `${s.what} ${Math.round(s.share * 100)}%`)
        .join(', '),
  );
  if (prof.cpu) {
    printTable(
      `Sender CPU profile during the ${name} phase (${prof.cpu.busySamples} busy samples every ${prof.cpu.intervalUs} us), by place`,
      ['place', 'share of busy samples'],
      prof.cpu.byPlace.map((p) => [p.place, `${(p.share * 100).toFixed(1)}%`]),
    );
    printTable(
      'Native frames by JavaScript caller',
      ['native frame <- caller', 'share'],
      prof.cpu.nativeByCaller.map((f) => [f.what, `${(f.share * 100).toFixed(1)}%`]),
    );
    printTable(
      'Top functions (self time)',
      ['function', 'share'],
      prof.cpu.byFunction.map((f) => [f.fn, `${(f.share * 100).toFixed(1)}%`]),
    );
  }
}

function reportLatency(l: LatencyResult) {
  const row = (name: string, p: { p50: number; p95: number; p99: number; max: number }) => [
    name,
    p.p50,
    p.p95,
    p.p99,
    p.max,
  ];
  printTable(
    `End-to-end latency, ${l.submissions} submissions at ${l.ratePerSecond}/s on an idle formhub serve (${l.received} received), ms`,
    ['leg', 'p50', 'p95', 'p99', 'max'],
    [
      row('201 -> receiver', l.fromCreated),
      row('sent -> receiver', l.fromSent),
      row('  API: sent -> 201', l.api),
      row('  relay pickup: 201 -> dispatched_at', l.relay),
      row('  queue: dispatched_at -> attempt start', l.queue),
      row('  HTTP: attempt start -> receiver', l.http),
    ],
  );
  console.log(
    `p95 201 -> receiver: ${l.fromCreated.p95} ms (target < ${LATENCY_TARGET_MS}: ` +
      `${l.fromCreated.p95 < LATENCY_TARGET_MS ? 'met' : 'MISSED'}); ` +
      `relay pickups over 120 ms: ${(l.lateRelayShare * 100).toFixed(1)}%`,
  );
}

function reportFlaky(f: FlakyResult) {
  printTable(
    `Flaky receiver: ${f.submissions.toLocaleString('en-US')} submissions, ${Math.round(FAIL_RATE * 100)}% of requests answer 500, schedule ${RETRY_SCHEDULE}`,
    ['figure', 'value'],
    [
      [
        'submitted (201)',
        `${f.submitted} (${f.submitErrors} errors, ${f.submitPerSecond}/s, ${round(f.submitMs / 1000, 1)} s)`,
      ],
      ['deliveries', f.deliveries],
      [
        'succeeded / dead',
        `${f.succeeded} / ${f.dead} (expected dead n * 0.3^7 = ${f.expectedDead})`,
      ],
      [
        'responses received with a 2xx',
        `${f.deliveredResponses} (${(f.deliveredShare * 100).toFixed(3)}%)`,
      ],
      [
        'duplicate X-Webhook-Id with 2xx',
        `${f.duplicateIds} ids, ${f.duplicateRequests} extra requests`,
      ],
      [
        'requests at receiver / attempts logged',
        `${f.requests} / ${f.attemptsLogged} (${f.logMismatches} deliveries differ)`,
      ],
      [
        'attempts per delivery',
        `${f.attemptsPerDelivery} (max ${f.maxAttempts}; histogram ${JSON.stringify(f.attemptHistogram)})`,
      ],
      [
        'total time, first submission -> last attempt',
        `${round(f.totalMs / 1000, 1)} s (${f.attemptsPerSecond} attempts/s)`,
      ],
      [
        'CPU (% of one core)',
        `serve ${f.cpu.serve}%, postgres ${f.cpu.postgres}%, receiver ${f.cpu.receiver}%, machine ${f.cpu.machine}%`,
      ],
      [
        'PostgreSQL backends',
        `mean ${round(f.waits.meanBusy, 1)} busy: ` +
          f.waits.shares
            .slice(0, 5)
            .map((s) => `${s.what} ${Math.round(s.share * 100)}%`)
            .join(', '),
      ],
      [
        'replay of the dead',
        f.replay
          ? `${f.replay.replayed} replays in ${f.replay.rounds} rounds -> ${(f.replay.deliveredShareAfter * 100).toFixed(3)}% delivered, ${f.replay.deadAfter} dead`
          : 'nothing to replay',
      ],
    ],
  );
}

function versions() {
  const psql = (() => {
    try {
      return execFileSync(
        'psql',
        ['-h', '127.0.0.1', '-U', 'postgres', '-Atc', 'SHOW server_version'],
        { encoding: 'utf8' },
      ).trim();
    } catch {
      return 'unknown';
    }
  })();
  return { node: process.version, postgres: psql };
}

async function main(): Promise<void> {
  const receiver = await startReceiverProcess({ RECEIVER_FAIL_RATE: String(FAIL_RATE) });
  process.once('SIGINT', () => void receiver.stop().finally(() => process.exit(130)));
  try {
    const busyBefore = await machineBusyPercent();
    console.log(
      `machine busy before: ${busyBefore}% of one core (2 cores = 200%); ${JSON.stringify(versions())}`,
    );
    const throughput = PARTS.has('throughput')
      ? await runThroughput(
          {
            deliveries: COUNT,
            concurrency: CONCURRENCY,
            poolMax: POOL_MAX,
            warmup: WARMUP,
            engineWarmup: ENGINE_WARMUP,
            phaseTimeoutMs: SETTLE_TIMEOUT_MS,
            profile: PROFILE,
            cpuProfile: CPU_PROFILE,
            rounds: ROUNDS,
          },
          receiver,
        )
      : undefined;
    if (throughput) reportThroughput(throughput);
    const serve =
      PARTS.has('latency') || PARTS.has('flaky')
        ? await runServeParts(
            {
              redisUrl: REDIS_URL,
              retrySchedule: RETRY_SCHEDULE,
              latency: PARTS.has('latency')
                ? { submissions: LATENCY_SUBMISSIONS, ratePerSecond: LATENCY_RATE, warmup: 20 }
                : undefined,
              flaky: PARTS.has('flaky')
                ? {
                    submissions: FLAKY_SUBMISSIONS,
                    concurrency: FLAKY_CONCURRENCY,
                    failRate: FAIL_RATE,
                    settleTimeoutMs: SETTLE_TIMEOUT_MS,
                    replayRounds: REPLAY_ROUNDS,
                  }
                : undefined,
            },
            receiver,
          )
        : undefined;
    if (serve?.latency) reportLatency(serve.latency);
    if (serve?.flaky) reportFlaky(serve.flaky);
    const rates = throughput ? ratesOf(throughput) : undefined;
    console.log(
      JSON.stringify({
        bench: 'delivery',
        machine_busy_before_percent: busyBefore,
        ...versions(),
        throughput: throughput
          ? {
              deliveries: COUNT,
              concurrency: CONCURRENCY,
              pool_max: POOL_MAX,
              phases: throughput.phases,
              rounds: ROUNDS,
              ratio_engine_vs_bare: rates ? round(rates.engine / rates.bare, 3) : null,
              ratio_bullmq_vs_bare: rates ? round(rates.bullmq / rates.bare, 3) : null,
              engines: throughput.engines,
            }
          : null,
        latency: serve?.latency ?? null,
        flaky: serve?.flaky ?? null,
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
// startWorker's close() leaves one Redis connection open (the analytics Worker's duplicated
// connection in src/analytics/jobs.ts is shared, so BullMQ does not close it): exit explicitly.
process.exit(process.exitCode ?? 0);
