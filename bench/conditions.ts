/**
 * Condition benchmark (DESIGN.md section 4a, issue "Workflow rules"): what checking an
 * integration's condition costs the outbox relay per event.
 *
 * Each round relays COND_EVENTS committed `response.submitted` events twice, through the
 * real OutboxRelay and BullMQ queue on PostgreSQL and Redis: once to a webhook without a
 * condition ("plain"), once to a webhook whose 10-predicate condition every event matches
 * ("conditioned": the same deliveries are made, so the difference is the evaluation). The
 * two variants alternate which goes first, each on a form and workspace of its own. The
 * ratio is median conditioned events/s over median plain events/s (target >= 0.9); the
 * relay process's own CPU per event (process.cpuUsage, this process runs the relay) is
 * reported next to it, since the evaluation runs there and PostgreSQL's share is the same.
 *
 *   npm run bench:conditions
 *
 * Environment: COND_EVENTS (10000 per variant and round), COND_ROUNDS (5), COND_BATCH (500,
 * the relay's default batch). PostgreSQL: a fresh database, dropped at the end; Redis:
 * TEST_REDIS_URL (127.0.0.1:6379) under a random prefix, whose keys are removed at the end.
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { Redis } from 'ioredis';
import pino from 'pino';
import { BullDeliveryQueue, OutboxRelay } from '../src/delivery/index.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { insertSubmitted } from './support/delivery-throughput.ts';
import { envInt, printTable, round } from './support/stats.ts';
import { BENCH_FORM } from './support/workload.ts';

const EVENTS = envInt('COND_EVENTS', 10_000);
const ROUNDS = envInt('COND_ROUNDS', 5);
const BATCH = envInt('COND_BATCH', 500);
const TARGET = 0.9;

/** Ten predicates over BENCH_FORM's answers that every generated response satisfies. */
export const TEN_PREDICATES = {
  'data.department': { $in: BENCH_FORM.fields[2]!.options },
  'data.age': { $gte: 16, $lte: 120 },
  'data.satisfaction': { $gte: 1 },
  'data.subscribed': { $exists: true },
  'data.name': { $contains: ' ' },
  'data.email': { $contains: '@' },
  'data.interests': { $exists: true },
  'data.start_date': { $gte: '2020-01-01' },
  completed: { $eq: true },
};

const logger = pino({ level: 'silent' });

async function api(hub: TestHub, key: string, url: string, payload: unknown) {
  const res = await hub.request({ method: 'POST', url, key, payload: payload as object });
  if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; version?: number };
}

interface Run {
  variant: 'plain' | 'conditioned';
  events: number;
  ms: number;
  perSecond: number;
  cpuUsPerEvent: number;
  deliveries: number;
}

async function relayOnce(
  hub: TestHub,
  queue: BullDeliveryQueue,
  variant: Run['variant'],
  name: string,
): Promise<Run> {
  const ws = await hub.workspace(name);
  const form = await api(hub, ws.key, '/api/v2/forms', BENCH_FORM);
  const webhook = await api(hub, ws.key, `/api/v2/forms/${form.id}/webhooks`, {
    url: 'http://127.0.0.1:9/unused',
    ...(variant === 'conditioned' ? { condition: TEN_PREDICATES } : {}),
  });
  await insertSubmitted(
    hub.db,
    { id: form.id, workspace_id: ws.id, version: Number(form.version ?? 1) },
    EVENTS,
  );
  let filtered = 0;
  const relay = new OutboxRelay(hub.db, queue, logger, {
    batchSize: BATCH,
    metrics: { recordFiltered: (_reason, count) => (filtered += count) },
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  let events = 0;
  for (;;) {
    const taken = await relay.tick();
    if (taken === 0) break;
    events += taken;
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const made = await hub.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM deliveries WHERE integration_id = $1',
    [webhook.id],
  );
  const deliveries = Number(made.rows[0]?.n ?? 0);
  // A benchmark whose condition filtered anything would measure fewer inserts, not evaluation.
  if (events !== EVENTS || deliveries !== EVENTS || filtered !== 0) {
    throw new Error(`${variant}: ${events} events, ${deliveries} deliveries, ${filtered} filtered`);
  }
  return {
    variant,
    events,
    ms,
    perSecond: events / (ms / 1000),
    cpuUsPerEvent: (used.user + used.system) / events,
    deliveries,
  };
}

/** Deletes this run's Redis keys (the hub's random prefix). */
async function removeKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const hub = await startHub({ LOG_LEVEL: 'silent', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
const queue = new BullDeliveryQueue(hub.config);
const runs: Run[] = [];
try {
  // One unmeasured pair warms the JIT, the caches and PostgreSQL's buffers.
  await relayOnce(hub, queue, 'plain', 'warm-up plain');
  await relayOnce(hub, queue, 'conditioned', 'warm-up conditioned');
  for (let r = 0; r < ROUNDS; r++) {
    const order: Run['variant'][] =
      r % 2 === 0 ? ['plain', 'conditioned'] : ['conditioned', 'plain'];
    for (const variant of order) runs.push(await relayOnce(hub, queue, variant, `${variant} ${r}`));
  }
} finally {
  await queue.close();
  await hub.close();
  await removeKeys(hub.config.redis.url, hub.config.redis.prefix);
}

const of = (variant: Run['variant']) => runs.filter((r) => r.variant === variant);
const plain = median(of('plain').map((r) => r.perSecond));
const conditioned = median(of('conditioned').map((r) => r.perSecond));
const plainCpu = median(of('plain').map((r) => r.cpuUsPerEvent));
const conditionedCpu = median(of('conditioned').map((r) => r.cpuUsPerEvent));
const ratio = conditioned / plain;
printTable(
  `Relay with and without a 10-predicate condition (${EVENTS} events per run, ${ROUNDS} rounds)`,
  ['run', 'variant', 'events/s', 'relay CPU us/event'],
  runs.map((r, i) => [i + 1, r.variant, round(r.perSecond), round(r.cpuUsPerEvent, 1)]),
);
console.log(
  `median events/s: plain ${round(plain)}, conditioned ${round(conditioned)}; ratio ${round(ratio, 3)} (target >= ${TARGET}: ${ratio >= TARGET ? 'met' : 'MISSED'}); relay CPU per event: plain ${round(plainCpu, 1)} us, conditioned ${round(conditionedCpu, 1)} us`,
);
console.log(
  JSON.stringify({
    bench: 'conditions',
    events: EVENTS,
    rounds: ROUNDS,
    plain_per_second: round(plain),
    conditioned_per_second: round(conditioned),
    ratio: round(ratio, 3),
    target: TARGET,
    plain_cpu_us_per_event: round(plainCpu, 1),
    conditioned_cpu_us_per_event: round(conditionedCpu, 1),
  }),
);
