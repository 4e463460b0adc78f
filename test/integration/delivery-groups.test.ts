import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BullDeliveryQueue,
  bullPrefix,
  DELIVERY_QUEUE,
  GROUP_SIZE,
  OutboxRelay,
  type DeliveryJobData,
} from '../../src/delivery/index.ts';
import { loadAllPlugins } from '../../src/plugins/index.ts';
import { SecretBox } from '../../src/secrets/index.ts';
import { startWorker, type RunningWorker } from '../../src/worker/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

const logger = pino({ level: 'silent' });

/**
 * The relay's new deliveries travel GROUP_SIZE attempts per BullMQ job: what Redis holds,
 * that every attempt of a group is made once, and that a group run again (a stalled job,
 * a duplicate) makes no attempt a second time.
 */
describe('grouped delivery jobs', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let receiver: Receiver;
  let queue: BullDeliveryQueue;
  let inspect: Queue<DeliveryJobData>;
  let connection: Redis;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    hub = await startHub({
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
    });
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Grouped', fields: [{ key: 'n', type: 'integer' }] },
    });
    formId = form.json().id;
    receiver = await startReceiver();
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url },
    });
    expect(hook.statusCode).toBe(201);
    queue = new BullDeliveryQueue(hub.config);
    connection = new Redis(hub.config.redis.url, { maxRetriesPerRequest: null });
    inspect = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
      connection,
      prefix: bullPrefix(hub.config),
    });
  });

  afterAll(async () => {
    await worker?.close();
    await inspect.close();
    connection.disconnect();
    await queue.close();
    await receiver.close();
    await hub.close();
  });

  /** A worker of this hub, on the test's queue. */
  const startTestWorker = async () =>
    startWorker({
      config: hub.config,
      db: hub.db,
      redis: hub.redis,
      logger,
      plugins: await loadAllPlugins(hub.config, logger),
      secrets: new SecretBox(Buffer.from(hub.config.encryptionKey!, 'base64')),
      queue,
    });

  const submit = async (count: number) => {
    for (let n = 0; n < count; n++) {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { n } },
      });
      expect(res.statusCode).toBe(201);
    }
  };

  /**
   * A new submission relayed after everything queued so far: its delivery must arrive, and
   * whatever should not have been sent would have been sent before it (the queue is FIFO
   * and every job ahead of it has finished). Answers the sentinel's delivery id.
   */
  const sentinel = async (): Promise<string> => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { n: 0 } },
    });
    expect(res.statusCode).toBe(201);
    const responseId = (res.json() as { id: string }).id;
    const relay = new OutboxRelay(hub.db, queue, logger);
    while ((await relay.tick()) > 0);
    // A running worker's relay may have taken the event first (the test's relay then skips
    // it, locked): wait for the sentinel's own delivery, not whatever delivery is newest.
    return eventually(async () => {
      const { rows } = await hub.db.query<{ id: string }>(
        `SELECT delivery_id AS id FROM delivery_payloads WHERE payload -> 'response' ->> 'id' = $1`,
        [responseId],
      );
      return rows[0]?.id;
    });
  };

  const settled = () =>
    eventually(async () => {
      const counts = await inspect.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((n) => n === 0) ? counts : undefined;
    });

  it('the relay queues its new deliveries in jobs of up to GROUP_SIZE attempts', async () => {
    const count = 2 * GROUP_SIZE + 5;
    await submit(count);
    const relay = new OutboxRelay(hub.db, queue, logger);
    let relayed = 0;
    for (let taken = await relay.tick(); taken > 0; taken = await relay.tick()) relayed += taken;
    expect(relayed).toBe(count);

    const jobs = await inspect.getJobs(['waiting']);
    const sizes = jobs
      .map((job) => ('group' in job.data ? job.data.group.length : 1))
      .sort((a, b) => b - a);
    expect(sizes).toEqual([GROUP_SIZE, GROUP_SIZE, 5]);
    expect(jobs.every((job) => job.name === 'deliver-group')).toBe(true);
    const attempts = jobs.flatMap((job) => ('group' in job.data ? job.data.group : [job.data]));
    expect(new Set(attempts.map((a) => a.deliveryId)).size).toBe(count);
    expect(attempts.every((a) => a.attempt === 1)).toBe(true);
  });

  it('a worker makes every attempt of every group once, signed and logged', async () => {
    worker = await startTestWorker();
    const count = 2 * GROUP_SIZE + 5;
    const requests = await receiver.waitFor(count);
    const ids = requests.map((r) => r.headers['x-webhook-id']);
    expect(new Set(ids).size).toBe(count);
    expect(requests.every((r) => typeof r.headers['webhook-signature'] === 'string')).toBe(true);
    // The receiver answers before the attempt is logged: wait for the log.
    const rows = await eventually(async () => {
      const { rows } = await hub.db.query<{ status: string; n: number; logged: number }>(
        `SELECT d.status, count(*)::int AS n, sum((SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.id))::int AS logged
         FROM deliveries d GROUP BY d.status`,
      );
      return rows.length === 1 && rows[0]!.status === 'succeeded' ? rows : undefined;
    });
    expect(rows).toEqual([{ status: 'succeeded', n: count, logged: count }]);
    const scheduled = await hub.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_schedule`,
    );
    expect(scheduled.rows[0]!.n).toBe(0); // nothing waits any more
    await settled();
  });

  it('a group queued again after its attempts were made sends nothing (the claims refuse them)', async () => {
    const before = receiver.requests.length;
    const { rows } = await hub.db.query<{ id: string }>(`SELECT id FROM deliveries ORDER BY id`);
    // As a stalled group or a duplicate would come back: the same attempts, once more.
    await queue.enqueue(
      rows.map((r) => ({ deliveryId: r.id, attempt: 1 })),
      { grouped: true },
    );
    await settled();
    // Nothing is sent for the replayed group: the next thing to arrive is a later sentinel.
    const last = await sentinel();
    await receiver.waitFor(before + 1);
    expect(receiver.requests.slice(before).map((r) => r.headers['x-webhook-id'])).toEqual([last]);
    await settled();
    const attempts = await hub.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_attempts`,
    );
    expect(attempts.rows[0]!.n).toBe(rows.length + 1);
  });

  it('a group that mixes made and new attempts sends only the new ones', async () => {
    const before = receiver.requests.length;
    const done = await hub.db.query<{ id: string }>(
      `SELECT id FROM deliveries ORDER BY id LIMIT 3`,
    );
    await worker!.close();
    worker = undefined;
    await submit(2);
    const relay = new OutboxRelay(hub.db, queue, logger);
    while ((await relay.tick()) > 0);
    const fresh = await hub.db.query<{ id: string }>(
      `SELECT id FROM deliveries WHERE status = 'pending'`,
    );
    expect(fresh.rows).toHaveLength(2);
    await queue.enqueue(
      [...done.rows, ...fresh.rows].map((r) => ({ deliveryId: r.id, attempt: 1 })),
      { grouped: true },
    );
    worker = await startTestWorker();
    await receiver.waitFor(before + 2);
    await settled();
    // Only the two new attempts, and then a later sentinel: no made attempt went out again.
    const last = await sentinel();
    await receiver.waitFor(before + 3);
    const sent = receiver.requests.slice(before).map((r) => r.headers['x-webhook-id']);
    expect(sent.slice(0, 2).sort()).toEqual(fresh.rows.map((r) => r.id).sort());
    expect(sent.slice(2)).toEqual([last]);
    await settled();
  });

  it('delayed attempts stay one job each, with ids that dedupe; a lone attempt is a plain job', async () => {
    await worker!.close();
    worker = undefined;
    const later = {
      deliveryId: '00000000-0000-7000-8000-000000000001',
      attempt: 2,
      delayMs: 60_000,
    };
    const now = { deliveryId: '00000000-0000-7000-8000-000000000002', attempt: 1 };
    await queue.enqueue([later, now], { grouped: true });
    await queue.enqueue([later], { grouped: true }); // the same retry again: one job
    const delayed = await inspect.getJobs(['delayed']);
    expect(delayed.map((job) => ({ name: job.name, data: job.data }))).toEqual([
      { name: 'deliver', data: { deliveryId: later.deliveryId, attempt: 2 } },
    ]);
    const waiting = await inspect.getJobs(['waiting']);
    expect(waiting.map((job) => ({ name: job.name, data: job.data }))).toEqual([
      { name: 'deliver', data: now },
    ]);
    await inspect.obliterate({ force: true });
  });
});
