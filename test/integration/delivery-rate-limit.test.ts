import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullDeliveryQueue, DeliverySweeper } from '../../src/delivery/index.ts';
import { loadAllPlugins } from '../../src/plugins/index.ts';
import { createRedis, type Redis } from '../../src/redis/index.ts';
import { SecretBox } from '../../src/secrets/index.ts';
import { startWorker, type RunningWorker } from '../../src/worker/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

const logger = pino({ level: 'silent' });

/**
 * Rate limits (DESIGN.md section 4a) hold across worker processes: two workers, each with
 * its own Redis connections and queue client, on one database and one Redis. Deliveries over
 * the rate wait: none fails, none is counted as an extra attempt.
 */
describe('delivery rate limits across workers', () => {
  let hub: TestHub;
  let key: string;
  const workers: RunningWorker[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  const receivers: Receiver[] = [];
  /** Attempts each worker's engine was asked to make (claimed or not, paced or not). */
  const jobsRun: number[] = [];

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '2000' });
    key = (await hub.workspace()).key;
    for (let i = 0; i < 2; i++) workers.push(await startTestWorker());
  });
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    for (const close of closers) await close();
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  /** A worker of its own (its own hub services, Redis client and queue), as a second process has. */
  async function startTestWorker(): Promise<RunningWorker> {
    const redis: Redis = createRedis(hub.config);
    await redis.connect();
    const queue = new BullDeliveryQueue(hub.config);
    closers.push(
      () => queue.close(),
      () => redis.disconnect(),
    );
    const worker = await startWorker({
      config: hub.config,
      db: hub.db,
      redis,
      logger,
      plugins: await loadAllPlugins(hub.config, logger),
      secrets: new SecretBox(Buffer.from(hub.config.encryptionKey!, 'base64')),
      queue,
    });
    // Counts the attempts each worker's BullMQ worker hands its engine (it calls the method
    // by name on each job), to see that both workers took part.
    const index = jobsRun.push(0) - 1;
    const attempt = worker.engine.attempt.bind(worker.engine);
    worker.engine.attempt = (job) => {
      jobsRun[index]!++;
      return attempt(job);
    };
    return worker;
  }

  async function newForm(title: string): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title, fields: [{ key: 'n', type: 'integer' }] },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  /** Submits `count` responses, 20 at a time. */
  async function submit(formId: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 20) {
      const batch = Array.from({ length: Math.min(20, count - i) }, (_, j) =>
        hub.request({
          method: 'POST',
          url: `/api/v2/forms/${formId}/responses`,
          payload: { data: { n: i + j } },
        }),
      );
      for (const res of await Promise.all(batch)) expect(res.statusCode).toBe(201);
    }
  }

  /** Every delivery of these integrations, with its attempt count and logged attempts. */
  async function attemptsOf(integrationIds: string[]) {
    const { rows } = await hub.db.query<{
      status: string;
      attempts: number;
      logged: number;
      failed: number;
    }>(
      `SELECT d.status, d.attempts,
         (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = d.id) AS logged,
         (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = d.id
            AND (a.status_code < 200 OR a.status_code > 299)) AS failed
       FROM deliveries d WHERE d.integration_id = ANY($1::uuid[])`,
      [integrationIds],
    );
    return rows;
  }

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  it('300 deliveries at 30 per second through two workers take about 10 s, each in one attempt', async () => {
    const formId = await newForm('Paced');
    const target = await receiver();
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: target.url, rate_limit: { per_second: 30 } },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    await submit(formId, 300);

    // Halfway, the deliveries still waiting for their slots are due later, not lost: a
    // sweeper with a short grace finds nothing to queue again (each is due at its slot,
    // or claimed and waiting for it in a worker).
    await target.waitFor(150, 25_000);
    const sweeper = new DeliverySweeper(hub.db, hub.services.queue, logger, {
      graceMs: 2_000,
      graceMsPerWaitingJob: 0,
    });
    expect(await sweeper.sweep()).toBe(0);
    const requests = await target.waitFor(300, 25_000);
    const span = requests[requests.length - 1]!.at - requests[0]!.at;
    expect(span).toBeGreaterThanOrEqual(9_500);
    // Not slower than the limit by much either: waiting is for the slot, not for a sweep.
    expect(span).toBeLessThan(14_000);
    // No second in which more than 30 arrived (a slot is 1/30 s; a little timer slack).
    expect(new Set(requests.map((r) => r.headers['x-webhook-id'])).size).toBe(300);

    const rows = await eventually(async () => {
      const all = await attemptsOf([hook.json().id]);
      return all.length === 300 && all.every((d) => d.status === 'succeeded') ? all : undefined;
    });
    expect(rows.every((d) => d.attempts === 1 && d.logged === 1 && d.failed === 0)).toBe(true);
    // Both workers made attempts: the limit held across them, not within one.
    expect(
      jobsRun.every((n) => n > 0),
      JSON.stringify(jobsRun),
    ).toBe(true);
  });

  it("a workspace's Zapier hooks share Zapier's 30 per second by default", async () => {
    const formId = await newForm('Zapped');
    const target = await receiver();
    const hooks: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/zapier/hooks',
        key,
        payload: { target_url: target.url, form_id: formId },
      });
      expect(res.statusCode, res.body).toBe(201);
      hooks.push(res.json().id as string);
    }
    await submit(formId, 30);

    // 60 deliveries, two hooks: one bucket at 30/s is about 2 s; two buckets would be 1 s.
    const requests = await target.waitFor(60, 20_000);
    const span = requests[requests.length - 1]!.at - requests[0]!.at;
    expect(span).toBeGreaterThanOrEqual(1_500);
    const rows = await eventually(async () => {
      const all = await attemptsOf(hooks);
      return all.length === 60 && all.every((d) => d.status === 'succeeded') ? all : undefined;
    });
    expect(rows.every((d) => d.attempts === 1 && d.logged === 1)).toBe(true);
  });
});
