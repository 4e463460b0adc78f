/**
 * Rate limiter benchmark (DESIGN.md section 4a, per-integration rate limits): what the
 * limiter costs a delivery when it never makes one wait. Deliveries per second from ONE
 * worker (startWorker: relay, DeliveryEngine, BullMQ worker, webhook plugin with signing,
 * attempt log in PostgreSQL) to the same receiver, in phases of N deliveries each:
 *
 * - off: a webhook without a rate limit (the limiter is never asked);
 * - on: the same webhook with `"rate_limit": {"per_second": RATELIMIT_PER_SECOND}`
 *   (1,000,000 by default: far out of reach, so every delivery asks Redis for a slot and
 *   none waits).
 *
 * After an unmeasured warm-up, RATELIMIT_ROUNDS rounds of (off, on) run in turn; the ratio
 * is the median "on" rate over the median "off" rate. Each phase also reports this
 * process's CPU per delivery (process.cpuUsage: the hub and its worker; the receiver runs
 * in a process of its own), Redis calls per delivery, and checks that every delivery
 * succeeded in exactly one attempt. The hub runs with production settings: HTTP rate limits
 * on but out of reach (bench/support/rate-limits.ts).
 *
 *   node --max-semi-space-size=64 --import tsx bench/rate-limit.ts   (npm run bench:ratelimit)
 *
 * Environment: RATELIMIT_COUNT (10000 deliveries per phase), RATELIMIT_WARMUP (5000),
 * RATELIMIT_ROUNDS (3), RATELIMIT_CONCURRENCY (50), RATELIMIT_PER_SECOND (1000000),
 * RATELIMIT_TIMEOUT_S (300).
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import type { Redis } from 'ioredis';
import pino from 'pino';
import { BullDeliveryQueue, OutboxRelay } from '../src/delivery/index.ts';
import { loadAllPlugins } from '../src/plugins/index.ts';
import { SecretBox } from '../src/secrets/index.ts';
import { startWorker } from '../src/worker/index.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { machineBusyPercent } from './support/cpu.ts';
import {
  insertSubmitted,
  measurePhase,
  redisPid,
  type PhaseResult,
} from './support/delivery-throughput.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './support/rate-limits.ts';
import { startReceiverProcess, type ReceiverProcess } from './support/receiver-process.ts';
import { envInt, printTable, round } from './support/stats.ts';
import { BENCH_FORM } from './support/workload.ts';

const COUNT = envInt('RATELIMIT_COUNT', 10_000);
const WARMUP = envInt('RATELIMIT_WARMUP', 5_000);
const ROUNDS = envInt('RATELIMIT_ROUNDS', 3);
const CONCURRENCY = envInt('RATELIMIT_CONCURRENCY', 50);
const PER_SECOND = envInt('RATELIMIT_PER_SECOND', 1_000_000);
const TIMEOUT_MS = envInt('RATELIMIT_TIMEOUT_S', 300) * 1000;
const logger = pino({ level: 'silent' });

interface Phase extends PhaseResult {
  limited: boolean;
  /** Deliveries succeeded, and attempts logged, after the phase. */
  succeeded: number;
  attempts: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function api(hub: TestHub, key: string, url: string, payload: object) {
  const res = await hub.request({ method: 'POST', url, key, payload });
  if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as Record<string, unknown>;
}

/** One phase: a webhook (limited or not) with `count` deliveries queued by the real relay, then one worker. */
async function runPhase(
  hub: TestHub,
  receiver: ReceiverProcess,
  name: string,
  limited: boolean,
  count: number,
): Promise<Phase> {
  const path = `/${name}`;
  const ws = await hub.workspace(`bench ${name}`);
  const form = await api(hub, ws.key, '/api/v2/forms', BENCH_FORM);
  const formId = String(form.id);
  const webhook = await api(hub, ws.key, `/api/v2/forms/${formId}/webhooks`, {
    url: `${receiver.base}${path}`,
    ...(limited ? { rate_limit: { per_second: PER_SECOND } } : {}),
  });
  await insertSubmitted(
    hub.db,
    { id: formId, workspace_id: ws.id, version: Number(form.version ?? 1) },
    count,
  );
  const queue = new BullDeliveryQueue(hub.config);
  const relay = new OutboxRelay(hub.db, queue, logger);
  while ((await relay.tick()) > 0);
  const ctx = {
    receiver,
    redis: hub.redis as unknown as Redis,
    redisPid: await redisPid(hub.redis as unknown as Redis),
    databaseUrl: hub.config.database.url!,
  };
  const plugins = await loadAllPlugins(hub.config, logger);
  const secrets = new SecretBox(Buffer.from(hub.config.encryptionKey!, 'base64'));
  let worker: { close(): Promise<void> } | undefined;
  try {
    const phase = await measurePhase(name, ctx, path, count, async () => {
      worker = await startWorker({
        config: hub.config,
        db: hub.db,
        redis: hub.redis,
        logger,
        plugins,
        secrets,
        queue,
        concurrency: CONCURRENCY,
      });
      const summary = await receiver.waitFor(path, count, TIMEOUT_MS);
      return summary.requests - summary.ok;
    });
    const { rows } = await hub.db.query<{ succeeded: number; attempts: number }>(
      `SELECT count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded,
         (SELECT count(*)::int FROM delivery_attempts a JOIN deliveries x ON x.id = a.delivery_id
          WHERE x.integration_id = $1) AS attempts
       FROM deliveries d WHERE d.integration_id = $1`,
      [String(webhook.id)],
    );
    return { ...phase, limited, succeeded: rows[0]!.succeeded, attempts: rows[0]!.attempts };
  } finally {
    await worker?.close();
    await queue.close();
  }
}

function report(phases: Phase[]) {
  printTable(
    `Deliveries per second, ${COUNT.toLocaleString('en-US')} per phase, one worker, concurrency ${CONCURRENCY}; ` +
      `"on": rate_limit ${PER_SECOND.toLocaleString('en-US')}/s (out of reach)`,
    [
      'phase',
      'per s',
      'span s',
      'errors',
      'hub CPU ms/dlv',
      'postgres ms/dlv',
      'redis ms/dlv',
      'redis cmds/dlv',
      'succeeded',
      'attempts',
      'top Redis cmds/dlv',
    ],
    phases.map((p) => [
      p.name,
      Math.round(p.perSecond).toLocaleString('en-US'),
      round(p.spanMs / 1000, 2).toFixed(2),
      p.errors,
      p.cpuPerDelivery.sender.toFixed(3),
      p.cpuPerDelivery.postgres.toFixed(3),
      p.cpuPerDelivery.redis.toFixed(3),
      p.redisCallsPerDelivery,
      p.succeeded,
      p.attempts,
      p.redisTopCommands.map((c) => `${c.command} ${c.perDelivery}`).join(', '),
    ]),
  );
}

async function main(): Promise<void> {
  const receiver = await startReceiverProcess();
  const hub = await startHub({
    DATABASE_POOL_MIN: '10',
    DATABASE_POOL_MAX: '50',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    ...OUT_OF_REACH_RATE_LIMITS,
  });
  try {
    console.log(`machine busy before: ${await machineBusyPercent()}% of one core (2 cores = 200%)`);
    // Compiles the engine's code paths, both of them, before anything is measured.
    await runPhase(hub, receiver, 'warm-up-off', false, WARMUP);
    await runPhase(hub, receiver, 'warm-up-on', true, WARMUP);
    const phases: Phase[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      phases.push(await runPhase(hub, receiver, `off-${r}`, false, COUNT));
      phases.push(await runPhase(hub, receiver, `on-${r}`, true, COUNT));
    }
    report(phases);
    const off = phases.filter((p) => !p.limited);
    const on = phases.filter((p) => p.limited);
    const rate = (list: Phase[]) => median(list.map((p) => p.perSecond));
    const cpu = (list: Phase[]) => median(list.map((p) => p.cpuPerDelivery.sender));
    const ratio = rate(on) / rate(off);
    const exact = phases.every((p) => p.succeeded === COUNT && p.attempts === COUNT);
    console.log(
      `\nratio on / off (median rates): ${ratio.toFixed(3)}; hub CPU per delivery (median): ` +
        `off ${cpu(off).toFixed(3)} ms, on ${cpu(on).toFixed(3)} ms ` +
        `(${((cpu(on) / cpu(off) - 1) * 100).toFixed(1)}%); every delivery succeeded in one attempt: ${exact}`,
    );
    console.log(
      JSON.stringify({
        bench: 'rate-limit',
        deliveries: COUNT,
        rounds: ROUNDS,
        concurrency: CONCURRENCY,
        per_second: PER_SECOND,
        ratio_on_vs_off: round(ratio, 3),
        per_second_off: round(rate(off), 0),
        per_second_on: round(rate(on), 0),
        cpu_ms_per_delivery_off: round(cpu(off), 3),
        cpu_ms_per_delivery_on: round(cpu(on), 3),
        every_delivery_one_attempt: exact,
        phases,
      }),
    );
    if (!exact) process.exitCode = 1;
  } finally {
    await hub.close();
    await receiver.stop();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
// startWorker's close() leaves one Redis connection open (see bench/delivery.ts): exit explicitly.
process.exit(process.exitCode ?? 0);
