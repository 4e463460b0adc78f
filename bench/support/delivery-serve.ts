/**
 * bench/delivery.ts, parts 2 and 3, against `node bin/formhub.js serve` (API and worker in
 * one process, as a single machine runs it) in a child process on a fresh database:
 *
 * - latency: submissions at a modest open-loop rate; for each, the time from its 201 to the
 *   arrival of its webhook at the receiver, split with the timestamps the hub logs (outbox
 *   `dispatched_at`, the attempt's `at`) into the relay's pickup, the queue and the HTTP leg.
 * - flaky: many submissions to a receiver that answers 500 to 30% of requests at random,
 *   with a short retry schedule; waits until every delivery is succeeded or dead, then
 *   counts what arrived, duplicates and attempts, and replays the dead ones.
 */

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Agent, request } from 'undici';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { freePort, startServer } from '../../test/support/process.ts';
import { cpuOf, cpuSince, cpuSnapshot, machineCpuMs } from './cpu.ts';
import { createLoadClient, runLoad } from './load.ts';
import { startPgSampler, type WaitProfile } from './pg-sampler.ts';
import type { ReceiverProcess } from './receiver-process.ts';
import { assertNotLimited, OUT_OF_REACH_RATE_LIMITS } from './rate-limits.ts';
import { backendPids, clearRedis } from './servers.ts';
import { percentiles, round } from './stats.ts';
import { BENCH_FORM, submissionBodies } from './workload.ts';

export interface ServeOptions {
  redisUrl: string;
  retrySchedule: string;
  latency: { submissions: number; ratePerSecond: number; warmup: number } | undefined;
  flaky:
    | {
        submissions: number;
        concurrency: number;
        failRate: number;
        settleTimeoutMs: number;
        replayRounds: number;
      }
    | undefined;
}

type Pcts = { p50: number; p95: number; p99: number; max: number };

export interface LatencyResult {
  submissions: number;
  ratePerSecond: number;
  received: number;
  /** 201 -> receiver. */
  fromCreated: Pcts;
  /** request sent -> receiver (includes the API's own answer time). */
  fromSent: Pcts;
  /** The API's answer time: sent -> 201. */
  api: Pcts;
  /** 201 -> outbox.dispatched_at (relay pickup: its 100 ms idle poll). */
  relay: Pcts;
  /** dispatched_at -> attempt start (queueing, BullMQ, claim, integration read). */
  queue: Pcts;
  /** attempt start -> receiver (signing, HTTP). */
  http: Pcts;
  /** Share of deliveries whose relay pickup took longer than one idle poll plus 20 ms. */
  lateRelayShare: number;
}

export interface FlakyResult {
  submissions: number;
  submitted: number;
  submitErrors: number;
  submitPerSecond: number;
  submitMs: number;
  /** First submission -> last attempt finished. */
  totalMs: number;
  deliveries: number;
  succeeded: number;
  dead: number;
  expectedDead: number;
  deliveredResponses: number;
  deliveredShare: number;
  /** X-Webhook-Ids answered 2xx more than once, and the extra 2xx requests. */
  duplicateIds: number;
  duplicateRequests: number;
  requests: number;
  attemptsLogged: number;
  attemptsPerDelivery: number;
  maxAttempts: number;
  attemptHistogram: Record<string, number>;
  /** Deliveries whose receiver request count differs from their logged attempts. */
  logMismatches: number;
  attemptsPerSecond: number;
  cpu: { serve: number; postgres: number; receiver: number; machine: number };
  waits: WaitProfile;
  replay:
    | { rounds: number; replayed: number; deliveredShareAfter: number; deadAfter: number }
    | undefined;
}

export interface ServeResult {
  latency: LatencyResult | undefined;
  flaky: FlakyResult | undefined;
}

const epoch = () => performance.timeOrigin + performance.now();

async function call(base: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

const pcts = (values: number[]): Pcts => {
  const p = percentiles(Float64Array.from(values));
  return { p50: round(p.p50, 1), p95: round(p.p95, 1), p99: round(p.p99, 1), max: round(p.max, 1) };
};

async function setUpWebhook(
  base: string,
  key: string,
  url: string,
): Promise<{ formId: string; webhookId: string }> {
  const form = await call(base, key, 'POST', '/api/v2/forms', BENCH_FORM);
  const webhook = await call(base, key, 'POST', `/api/v2/forms/${String(form.id)}/webhooks`, {
    url,
  });
  return { formId: String(form.id), webhookId: String(webhook.id) };
}

async function latencyPart(
  base: string,
  key: string,
  receiver: ReceiverProcess,
  admin: pg.Client,
  o: NonNullable<ServeOptions['latency']>,
): Promise<LatencyResult> {
  const { formId } = await setUpWebhook(base, key, `${receiver.base}/latency`);
  const url = `${base}/api/v2/forms/${formId}/responses`;
  const bodies = submissionBodies(Math.max(o.submissions, o.warmup), 21);
  const agent = new Agent({ connections: 64, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const sent: { id: string; sentAt: number; createdAt: number }[] = [];
  const submitAtRate = async (count: number, perSecond: number, record: boolean) => {
    const started = epoch();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - epoch();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(
        (async () => {
          const sentAt = epoch();
          const res = await request(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: bodies[i]!,
            dispatcher: agent,
          });
          const json = (await res.body.json()) as { id?: string };
          const createdAt = epoch();
          if (res.statusCode !== 201 || !json.id)
            throw new Error(`submission answered ${res.statusCode}`);
          if (record) sent.push({ id: json.id, sentAt, createdAt });
        })(),
      );
    }
    await Promise.all(inFlight);
  };
  try {
    await submitAtRate(o.warmup, 10, false);
    await receiver.waitFor('/latency', o.warmup, 30_000);
    await receiver.reset('/latency');
    await submitAtRate(o.submissions, o.ratePerSecond, true);
    await receiver.waitFor('/latency', o.submissions, 120_000);
  } finally {
    await agent.close();
  }
  const dump = await receiver.dump('/latency');
  const arrival = new Map<string, number>();
  dump.responseId.forEach((id, i) => {
    if (!arrival.has(id)) arrival.set(id, dump.at[i]!);
  });
  const { rows } = await admin.query<{ rid: string; dispatched: number; attempt_at: number }>(
    `SELECT o.payload -> 'response' ->> 'id' AS rid,
       extract(epoch FROM o.dispatched_at) * 1000 AS dispatched,
       extract(epoch FROM a.at) * 1000 AS attempt_at
     FROM outbox o
     JOIN deliveries d ON d.event_id = o.id
     JOIN delivery_attempts a ON a.delivery_id = d.id AND a.number = 1
     WHERE o.form_id = $1 AND o.event_type = 'response.submitted'`,
    [formId],
  );
  const logged = new Map(
    rows.map((r) => [r.rid, { dispatched: Number(r.dispatched), attemptAt: Number(r.attempt_at) }]),
  );
  const fromCreated: number[] = [];
  const fromSent: number[] = [];
  const api: number[] = [];
  const relay: number[] = [];
  const queue: number[] = [];
  const http: number[] = [];
  for (const s of sent) {
    const at = arrival.get(s.id);
    const log = logged.get(s.id);
    if (at === undefined || !log) continue;
    fromCreated.push(at - s.createdAt);
    fromSent.push(at - s.sentAt);
    api.push(s.createdAt - s.sentAt);
    relay.push(log.dispatched - s.createdAt);
    queue.push(log.attemptAt - log.dispatched);
    http.push(at - log.attemptAt);
  }
  return {
    submissions: o.submissions,
    ratePerSecond: o.ratePerSecond,
    received: fromCreated.length,
    fromCreated: pcts(fromCreated),
    fromSent: pcts(fromSent),
    api: pcts(api),
    relay: pcts(relay),
    queue: pcts(queue),
    http: pcts(http),
    lateRelayShare: round(relay.filter((ms) => ms > 120).length / Math.max(1, relay.length), 3),
  };
}

async function deliveryStatus(admin: pg.Client, webhookId: string) {
  const { rows } = await admin.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM deliveries WHERE integration_id = $1 GROUP BY status',
    [webhookId],
  );
  const by = Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
  const total = rows.reduce((sum, r) => sum + r.n, 0);
  return {
    total,
    settled: (by.succeeded ?? 0) + (by.dead ?? 0),
    succeeded: by.succeeded ?? 0,
    dead: by.dead ?? 0,
  };
}

async function flakyPart(
  base: string,
  key: string,
  receiver: ReceiverProcess,
  admin: pg.Client,
  server: { pid: number; databaseUrl: string },
  o: NonNullable<ServeOptions['flaky']>,
  scheduleLength: number,
): Promise<FlakyResult> {
  const { formId, webhookId } = await setUpWebhook(base, key, `${receiver.base}/flaky`);
  const sampler = await startPgSampler(server.databaseUrl);
  const pgBefore = cpuSnapshot(await backendPids(server.databaseUrl));
  const before = {
    serve: cpuOf(server.pid),
    receiver: cpuOf(receiver.pid),
    machine: machineCpuMs().busy,
    at: performance.now(),
  };
  const startedAt = Date.now();
  const client = createLoadClient(
    'http',
    `${base}/api/v2/forms/${formId}/responses`,
    o.concurrency,
  );
  const load = await runLoad({
    send: client.send,
    bodies: submissionBodies(1_000, 33),
    concurrency: o.concurrency,
    requests: o.submissions,
    expectStatus: 201,
    maxDurationMs: o.settleTimeoutMs,
  });
  client.close();
  assertNotLimited('flaky submissions', load.tooMany);
  const deadline = Date.now() + o.settleTimeoutMs;
  let status = await deliveryStatus(admin, webhookId);
  while (!(status.total >= load.ok && status.settled === status.total)) {
    if (Date.now() > deadline)
      throw new Error(
        `flaky: not settled within ${o.settleTimeoutMs} ms: ${JSON.stringify(status)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = await deliveryStatus(admin, webhookId);
  }
  const wall = performance.now() - before.at;
  const pgMs = cpuSince(pgBefore, await backendPids(server.databaseUrl));
  const pct = (ms: number) => round((100 * ms) / wall, 0);
  const cpu = {
    serve: pct(cpuOf(server.pid) - before.serve),
    postgres: pct(pgMs),
    receiver: pct(cpuOf(receiver.pid) - before.receiver),
    machine: pct(machineCpuMs().busy - before.machine),
  };
  const waits = await sampler.stop();

  const { rows: timing } = await admin.query<{ last: number; attempts: number }>(
    `SELECT extract(epoch FROM max(a.at + a.latency_ms * interval '1 millisecond')) * 1000 AS last, count(*)::int AS attempts
     FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.integration_id = $1`,
    [webhookId],
  );
  const { rows: perDelivery } = await admin.query<{ id: string; attempts: number; status: string }>(
    'SELECT id, attempts, status FROM deliveries WHERE integration_id = $1',
    [webhookId],
  );
  const { rows: responses } = await admin.query<{ id: string }>(
    'SELECT id FROM responses WHERE form_id = $1',
    [formId],
  );
  const totalMs = Number(timing[0]?.last ?? 0) - startedAt;

  const tally = async () => {
    const dump = await receiver.dump('/flaky');
    const okById = new Map<string, number>();
    const requestsById = new Map<string, number>();
    const okResponses = new Set<string>();
    dump.webhookId.forEach((id, i) => {
      requestsById.set(id, (requestsById.get(id) ?? 0) + 1);
      if (dump.status[i]! >= 200 && dump.status[i]! < 300) {
        okById.set(id, (okById.get(id) ?? 0) + 1);
        okResponses.add(dump.responseId[i]!);
      }
    });
    const delivered = responses.filter((r) => okResponses.has(r.id)).length;
    return { dump, okById, requestsById, delivered };
  };
  const first = await tally();
  let duplicateIds = 0;
  let duplicateRequests = 0;
  for (const n of first.okById.values()) {
    if (n > 1) {
      duplicateIds++;
      duplicateRequests += n - 1;
    }
  }
  const histogram: Record<string, number> = {};
  let mismatches = 0;
  for (const d of perDelivery) {
    histogram[String(d.attempts)] = (histogram[String(d.attempts)] ?? 0) + 1;
    if ((first.requestsById.get(d.id) ?? 0) !== d.attempts) mismatches++;
  }
  const attemptsLogged = Number(timing[0]?.attempts ?? 0);

  let replay: FlakyResult['replay'];
  const dead = perDelivery.filter((d) => d.status === 'dead').map((d) => d.id);
  if (o.replayRounds > 0 && dead.length > 0) {
    let pending = dead;
    let rounds = 0;
    let replayed = 0;
    while (pending.length > 0 && rounds < o.replayRounds) {
      rounds++;
      for (const id of pending) await call(base, key, 'POST', `/api/v2/deliveries/${id}/replay`);
      replayed += pending.length;
      const until = Date.now() + 30_000;
      for (;;) {
        const { rows } = await admin.query<{ id: string; status: string }>(
          'SELECT id, status FROM deliveries WHERE id = ANY($1::uuid[])',
          [pending],
        );
        if (rows.every((r) => r.status === 'succeeded' || r.status === 'dead')) {
          pending = rows.filter((r) => r.status === 'dead').map((r) => r.id);
          break;
        }
        if (Date.now() > until) throw new Error('replayed deliveries did not settle within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const after = await tally();
    replay = {
      rounds,
      replayed,
      deliveredShareAfter: round(after.delivered / Math.max(1, responses.length), 5),
      deadAfter: pending.length,
    };
  }

  return {
    submissions: o.submissions,
    submitted: load.ok,
    submitErrors: load.errors,
    submitPerSecond: round(load.ok / (load.elapsedMs / 1000), 0),
    submitMs: round(load.elapsedMs, 0),
    totalMs: round(totalMs, 0),
    deliveries: status.total,
    succeeded: status.succeeded,
    dead: status.dead,
    expectedDead: round(load.ok * o.failRate ** (scheduleLength + 1), 2),
    deliveredResponses: first.delivered,
    deliveredShare: round(first.delivered / Math.max(1, responses.length), 5),
    duplicateIds,
    duplicateRequests,
    requests: first.dump.webhookId.length,
    attemptsLogged,
    attemptsPerDelivery: round(attemptsLogged / Math.max(1, perDelivery.length), 3),
    maxAttempts: Math.max(0, ...perDelivery.map((d) => d.attempts)),
    attemptHistogram: histogram,
    logMismatches: mismatches,
    attemptsPerSecond: round(attemptsLogged / (totalMs / 1000), 0),
    cpu,
    waits,
    replay,
  };
}

/** Runs the latency and flaky parts against one `formhub serve` child process. */
export async function runServeParts(
  options: ServeOptions,
  receiver: ReceiverProcess,
): Promise<ServeResult> {
  const database: TestDatabase = await createTestDatabase();
  const prefix = `formhub-bench:${randomBytes(4).toString('hex')}:`;
  const adminKey = `bench-admin-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const admin = new pg.Client({ connectionString: database.url });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    server = await startServer(
      ['serve'],
      {
        DATABASE_URL: database.url,
        DATABASE_POOL_MIN: '10',
        DATABASE_POOL_MAX: '50',
        HOST: '127.0.0.1',
        REDIS_URL: options.redisUrl,
        REDIS_PREFIX: prefix,
        FORMHUB_ADMIN_KEY: adminKey,
        FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ...OUT_OF_REACH_RATE_LIMITS,
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: options.retrySchedule,
        LOG_LEVEL: 'error',
      },
      port,
    );
    await admin.connect();
    const base = `http://127.0.0.1:${port}`;
    const ws = await call(base, adminKey, 'POST', '/api/v2/workspaces', {
      name: 'bench deliveries',
    });
    const key = String(ws.api_key);
    const latency = options.latency
      ? await latencyPart(base, key, receiver, admin, options.latency)
      : undefined;
    const flaky = options.flaky
      ? await flakyPart(
          base,
          key,
          receiver,
          admin,
          { pid: server.child.pid!, databaseUrl: database.url },
          options.flaky,
          options.retrySchedule.split(',').length,
        )
      : undefined;
    return { latency, flaky };
  } finally {
    await admin.end().catch(() => undefined);
    if (server) {
      const child = server.child;
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await server.stop();
      clearTimeout(killer);
    }
    await database.drop();
    await clearRedis(options.redisUrl, prefix).catch(() => undefined);
  }
}
