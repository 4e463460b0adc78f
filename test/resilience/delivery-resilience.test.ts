/**
 * DESIGN.md section 1 and "Webhooks (Webhook 2.0)": a submission accepted with 201 is never
 * lost and every event is delivered at least once, even when Redis was down at the time of
 * the submission; deliveries survive a worker crash and a Redis restart; several relays
 * never take the same event.
 *
 * The first two tests run the hub as real `formhub api` + `formhub worker` processes against
 * a private redis-server (never the shared one) and a fresh PostgreSQL database.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  attemptsOf,
  BullDeliveryQueue,
  bullPrefix,
  DELIVERY_QUEUE,
  OutboxRelay,
  type DeliveryJobData,
} from '../../src/delivery/index.ts';
import { pendingEvents } from '../../src/events/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { freePort, startServer } from '../support/process.ts';
import {
  adopt,
  redisAnswers,
  spawnFormhub,
  startRedisServer,
  startTrackingReceiver,
  waitUntil,
  type Child,
  type TrackingReceiver,
} from '../support/resilience.ts';

const ADMIN = `resilience-admin-${randomBytes(8).toString('hex')}`;
const REQUEST_TIMEOUT_MS = 5_000;

describe.sequential('delivery resilience (api + worker processes, private Redis)', () => {
  let database: TestDatabase;
  let sql: pg.Pool;
  let redisPort: number;
  let apiPort: number;
  let env: Record<string, string>;
  let redis: Child | undefined;
  let api: Child | undefined;
  let worker: Child | undefined;
  let key: string;
  const children = new Set<Child>();
  const receivers: TrackingReceiver[] = [];

  const base = () => `http://127.0.0.1:${apiPort}`;

  async function ensureRedis(): Promise<void> {
    if (redis?.alive() && (await redisAnswers(env.REDIS_URL!))) return;
    redis = await startRedisServer(redisPort);
    children.add(redis);
  }

  function startWorkerProcess(): Child {
    const child = spawnFormhub(['worker'], env);
    children.add(child);
    return child;
  }

  async function call(method: string, path: string, body?: unknown, auth?: string) {
    const started = performance.now();
    const res = await fetch(base() + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      ms: performance.now() - started,
    };
  }

  async function formWithWebhook(title: string, receiver: TrackingReceiver) {
    const form = await call(
      'POST',
      '/api/v2/forms',
      { title, status: 'published', fields: [{ key: 'n', type: 'integer', required: true }] },
      key,
    );
    expect(form.status, JSON.stringify(form.body)).toBe(201);
    const formId = form.body.id as string;
    const hook = await call('POST', `/api/v2/forms/${formId}/webhooks`, { url: receiver.url }, key);
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    return { formId, webhookId: hook.body.id as string };
  }

  /** Submits without a key (the public path); bounded by REQUEST_TIMEOUT_MS. */
  async function submit(formId: string, n: number) {
    try {
      const res = await call('POST', `/api/v2/forms/${formId}/responses`, { data: { n } });
      return {
        status: res.status,
        id: res.body.id as string | undefined,
        ms: res.ms,
        error: undefined,
      };
    } catch (error) {
      return { status: 0, id: undefined, ms: REQUEST_TIMEOUT_MS, error: (error as Error).message };
    }
  }

  async function deliveryStatuses(webhookId: string): Promise<Record<string, number>> {
    const { rows } = await sql.query<{ status: string; count: number }>(
      'SELECT status, count(*)::int AS count FROM deliveries WHERE integration_id = $1 GROUP BY status',
      [webhookId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.count]));
  }

  const allSucceeded = (statuses: Record<string, number>, total: number) =>
    statuses.succeeded === total && Object.keys(statuses).length === 1;

  const stats = (ms: number[]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    const at = (q: number) =>
      Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return { min: at(0), median: at(0.5), p95: at(0.95), max: at(1) };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    sql = new pg.Pool({ connectionString: database.url, max: 2 });
    redisPort = await freePort();
    apiPort = await freePort();
    env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_MIN: '0',
      DATABASE_POOL_MAX: '10',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,2s',
      WEBHOOK_TIMEOUT_MS: '5000',
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_FORM: '0',
      FORMHUB_ADMIN_KEY: ADMIN,
      FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
    };
    await ensureRedis();
    // `api` migrates the database before it answers /readyz; the worker starts after that.
    const server = await startServer(['api'], env, apiPort);
    api = adopt('formhub api', server.child, server.output);
    children.add(api);
    worker = startWorkerProcess();
    const ws = await call('POST', '/api/v2/workspaces', { name: 'Resilience' }, ADMIN);
    expect(ws.status).toBe(201);
    key = ws.body.api_key as string;
  }, 90_000);

  afterAll(async () => {
    for (const receiver of receivers) await receiver.close().catch(() => undefined);
    // Formhub processes first (gracefully, then SIGKILL), Redis last.
    const ordered = [...children].sort(
      (a, b) => Number(a.name.startsWith('redis')) - Number(b.name.startsWith('redis')),
    );
    for (const child of ordered) await child.stop(5_000).catch(() => undefined);
    for (const child of children) if (child.alive()) child.child.kill('SIGKILL');
    await sql?.end().catch(() => undefined);
    await database?.drop();
  }, 60_000);

  it('accepts every submission while Redis is down and delivers all of them once it is back', async () => {
    const receiver = await startTrackingReceiver();
    receivers.push(receiver);
    const { formId, webhookId } = await formWithWebhook('Redis outage', receiver);

    const before = [];
    for (let n = 1; n <= 20; n++) before.push(await submit(formId, n));
    expect(before.map((r) => r.status)).toEqual(Array(20).fill(201));
    // The worker must be up before Redis goes (it refuses to start without Redis).
    await waitUntil(
      () => receiver.hits.length > 0,
      30_000,
      'the worker delivers its first webhook',
    );
    expect(worker?.alive(), worker?.output()).toBe(true);
    const receivedBeforeOutage = receiver.responseIds().size;

    redis!.child.kill('SIGTERM');
    await redis!.exited;
    const downAt = Date.now();
    const ready = await call('GET', '/readyz').catch(() => ({ status: 0, ms: REQUEST_TIMEOUT_MS }));

    const during = [];
    for (let n = 21; n <= 50; n++) during.push(await submit(formId, n));
    const latency = stats(during.map((r) => r.ms));
    console.log(
      `[redis outage] received before outage: ${receivedBeforeOutage}/20; /readyz while down: ${ready.status} in ${Math.round(ready.ms)} ms; ` +
        `submission latency while down (ms): ${JSON.stringify(latency)}`,
    );
    expect(
      during.map((r) => r.status),
      JSON.stringify(during.filter((r) => r.status !== 201)),
    ).toEqual(Array(30).fill(201));
    expect(latency.max).toBeLessThan(REQUEST_TIMEOUT_MS);
    expect(ready.status).toBe(503);

    const accepted = new Set([...before, ...during].map((r) => r.id!));
    expect(accepted.size).toBe(50);
    // Every accepted response is in PostgreSQL with one delivery, whatever Redis did.
    await waitUntil(
      async () =>
        (await sql.query('SELECT 1 FROM deliveries WHERE integration_id = $1', [webhookId]))
          .rowCount === 50,
      15_000,
      'the relay creates 50 deliveries while Redis is down',
    );

    // Hold the outage long enough for the relay, the sweeper (every 5 s) and the BullMQ worker's
    // reconnects to fail at least once each.
    const holdMs = downAt + 8_000 - Date.now();
    if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
    expect(worker?.alive(), `the worker died while Redis was down: ${worker?.output()}`).toBe(true);
    redis = await startRedisServer(redisPort);
    children.add(redis);
    const upAt = Date.now();
    console.log(`[redis outage] Redis was down for ${upAt - downAt} ms`);
    if (process.env.RESILIENCE_VERBOSE)
      console.log(`[redis outage] worker output so far:\n${worker?.output()}`);

    const missing = () => [...accepted].filter((id) => !receiver.responseIds().has(id));
    let receivedMs: number;
    try {
      receivedMs = await waitUntil(
        () => missing().length === 0,
        60_000,
        'every response delivered after Redis restart',
        100,
      );
    } catch (error) {
      console.log(
        `[redis outage] still missing ${missing().length} of 50 after 60 s; statuses ${JSON.stringify(await deliveryStatuses(webhookId))}; ` +
          `worker output:\n${worker?.output()}`,
      );
      throw error;
    }
    const succeededMs = await waitUntil(
      async () => allSucceeded(await deliveryStatuses(webhookId), 50),
      30_000,
      'every delivery succeeded',
    ).catch(async (error: Error) => {
      console.log(`[redis outage] statuses: ${JSON.stringify(await deliveryStatuses(webhookId))}`);
      throw error;
    });
    console.log(
      `[redis outage] after Redis restart: all 50 response ids received in ${receivedMs} ms, ` +
        `all deliveries succeeded ${receivedMs + succeededMs} ms after restart; ` +
        `requests ${receiver.hits.length}, duplicates (same X-Webhook-Id twice) ${receiver.duplicates()}`,
    );
    expect(missing()).toEqual([]);
    expect(await deliveryStatuses(webhookId)).toEqual({ succeeded: 50 });
  }, 150_000);

  it('recovers every delivery after the worker is SIGKILLed mid-delivery', async () => {
    await ensureRedis();
    if (!worker?.alive()) worker = startWorkerProcess();
    const receiver = await startTrackingReceiver(1_500);
    receivers.push(receiver);
    const { formId, webhookId } = await formWithWebhook('Worker crash', receiver);

    const submitted = [];
    for (let n = 1; n <= 10; n++) submitted.push(await submit(formId, n));
    expect(submitted.map((r) => r.status)).toEqual(Array(10).fill(201));
    const accepted = new Set(submitted.map((r) => r.id!));

    await waitUntil(
      () => receiver.hits.length > 0,
      30_000,
      'the receiver starts getting requests',
      10,
    );
    const victim = worker!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    const inFlight = receiver.hits.length;
    const statusesAtKill = await deliveryStatuses(webhookId);
    worker = startWorkerProcess();

    const unacknowledged = () =>
      [...accepted].filter((id) => !receiver.acknowledgedResponseIds().has(id));
    let ackMs: number;
    try {
      ackMs = await waitUntil(
        () => unacknowledged().length === 0,
        90_000,
        'every response acknowledged after SIGKILL',
        200,
      );
    } catch (error) {
      console.log(
        `[sigkill] still unacknowledged ${unacknowledged().length} of 10; statuses ${JSON.stringify(await deliveryStatuses(webhookId))}; ` +
          `new worker output:\n${worker.output()}`,
      );
      throw error;
    }
    const succeededMs = await waitUntil(
      async () => allSucceeded(await deliveryStatuses(webhookId), 10),
      20_000,
      'every delivery succeeded',
    ).catch(async (error: Error) => {
      console.log(`[sigkill] statuses: ${JSON.stringify(await deliveryStatuses(webhookId))}`);
      throw error;
    });
    console.log(
      `[sigkill] requests received before the kill: ${inFlight}; statuses at kill ${JSON.stringify(statusesAtKill)}; ` +
        `all 10 acknowledged ${ackMs} ms after the kill, all succeeded ${ackMs + succeededMs} ms after (${Date.now() - killedAt} ms now); ` +
        `requests ${receiver.hits.length}, duplicates (same X-Webhook-Id twice) ${receiver.duplicates()}`,
    );
    expect([...accepted].filter((id) => !receiver.responseIds().has(id))).toEqual([]);
    expect(unacknowledged()).toEqual([]);
    expect(await deliveryStatuses(webhookId)).toEqual({ succeeded: 10 });
  }, 130_000);
});

describe.sequential('several outbox relays at once', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startHub({
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_FORM: '0',
    });
  }, 60_000);
  afterAll(async () => hub?.close(), 60_000);

  it('turns every event into exactly one delivery per integration, enqueued once', async () => {
    const { key } = await hub.workspace('Relays');
    const form = async (title: string, hooks: number) => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title, status: 'published', fields: [{ key: 'n', type: 'integer' }] },
      });
      expect(res.statusCode, res.body).toBe(201);
      const formId = res.json().id as string;
      const integrations: string[] = [];
      for (let i = 0; i < hooks; i++) {
        const hook = await hub.request({
          method: 'POST',
          url: `/api/v2/forms/${formId}/webhooks`,
          key,
          payload: { url: `http://127.0.0.1:9/hook-${i}` },
        });
        expect(hook.statusCode, hook.body).toBe(201);
        integrations.push(hook.json().id as string);
      }
      return { formId, integrations };
    };
    const a = await form('Two hooks', 2);
    const b = await form('One hook', 1);

    const started = performance.now();
    for (let chunk = 0; chunk < 500; chunk += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          hub.request({
            method: 'POST',
            url: `/api/v2/forms/${(chunk + i) % 2 === 0 ? a.formId : b.formId}/responses`,
            payload: { data: { n: chunk + i } },
          }),
        ),
      );
      expect(batch.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    }
    const submittedMs = Math.round(performance.now() - started);

    // Two relays as two processes run them: each with its own BullMQ queue on one Redis, under
    // a prefix of this test's own, whose jobs are then counted in Redis itself.
    const logger = pino({ level: 'silent' });
    const config = {
      ...hub.config,
      redis: {
        ...hub.config.redis,
        prefix: `formhub-test:relays-${randomBytes(4).toString('hex')}:`,
      },
    };
    const queues = [new BullDeliveryQueue(config), new BullDeliveryQueue(config)];
    const relays = queues.map((q) => new OutboxRelay(hub.db, q, logger, { batchSize: 20 }));
    const taken = [0, 0];
    const relayStarted = performance.now();
    const loop = async (i: number) => {
      for (let round = 0; round < 500; round++) {
        const count = await relays[i]!.tick();
        taken[i]! += count;
        if (count === 0 && (await pendingEvents(hub.db, 1)).length === 0) return;
      }
      throw new Error(`relay ${i} did not drain the outbox in 500 rounds`);
    };
    await Promise.all([loop(0), loop(1), loop(0), loop(1)]);
    const relayMs = Math.round(performance.now() - relayStarted);

    expect(await pendingEvents(hub.db, 10)).toEqual([]);
    const { rows: events } = await hub.db.query<{ id: string; form_id: string }>(
      "SELECT id, form_id FROM outbox WHERE event_type = 'response.submitted'",
    );
    expect(events).toHaveLength(500);
    const { rows: deliveries } = await hub.db.query<{
      id: string;
      event_id: string;
      integration_id: string;
    }>('SELECT id, event_id, integration_id FROM deliveries');
    // One delivery per (event, integration of its form): 250 x 2 + 250 x 1.
    const expected = new Set(
      events.flatMap((e) =>
        (e.form_id === a.formId ? a.integrations : b.integrations).map((i) => `${e.id}/${i}`),
      ),
    );
    const actual = deliveries.map((d) => `${d.event_id}/${d.integration_id}`);
    expect(actual).toHaveLength(750);
    expect(new Set(actual).size).toBe(750);
    expect(new Set(actual)).toEqual(expected);

    // What BullMQ holds: every delivery in exactly one job, as its first attempt.
    const connection = new Redis(config.redis.url, { maxRetriesPerRequest: 1 });
    const inspect = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
      connection,
      prefix: bullPrefix(config),
    });
    try {
      const jobs = await inspect.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
      const attempts = jobs.flatMap((job) => attemptsOf(job.data));
      const enqueued = attempts.map((a) => a.deliveryId);
      const duplicates = enqueued.length - new Set(enqueued).size;
      console.log(
        `[relays] 500 submissions in ${submittedMs} ms; two relays drained the outbox in ${relayMs} ms ` +
          `(events taken: r1 ${taken[0]}, r2 ${taken[1]}); BullMQ holds ${jobs.length} jobs of ` +
          `${enqueued.length} attempts, ${duplicates} of them for a delivery already in another job`,
      );
      expect(taken[0]! + taken[1]!).toBe(500);
      expect(taken[0]).toBeGreaterThan(0);
      expect(taken[1]).toBeGreaterThan(0);
      expect(enqueued).toHaveLength(750);
      expect(duplicates).toBe(0);
      expect(new Set(enqueued)).toEqual(new Set(deliveries.map((d) => d.id)));
      expect(attempts.every((a) => a.attempt === 1 && !a.manual)).toBe(true);
    } finally {
      await inspect.obliterate({ force: true });
      await inspect.close();
      connection.disconnect();
      for (const queue of queues) await queue.close();
    }
  }, 60_000);
});
