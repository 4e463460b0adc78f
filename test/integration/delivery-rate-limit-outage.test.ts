import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BullDeliveryQueue,
  DeliveryEngine,
  DeliverySweeper,
  OutboxRelay,
  RedisRateLimiter,
  startDeliveryWorker,
} from '../../src/delivery/index.ts';
import { createCredentialsResolver } from '../../src/integrations/index.ts';
import { createGuardedAgent } from '../../src/net/index.ts';
import { loadAllPlugins } from '../../src/plugins/index.ts';
import { openRedis, type Redis } from '../../src/redis/index.ts';
import { SecretBox } from '../../src/secrets/index.ts';
import { startWorker, type RunningWorker } from '../../src/worker/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { freePort } from '../support/process.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

const logger = pino({ level: 'silent' });

/**
 * A rate-limited delivery whose limiter's Redis does not answer is neither sent unchecked
 * nor lost: it waits in PostgreSQL, unattempted, and the sweeper queues it again once
 * Redis answers, when it is delivered in one attempt.
 */
describe('rate limits while the limiter cannot reach Redis', () => {
  let hub: TestHub;
  let key: string;
  let receiver: Receiver;
  let unreachable: Redis;
  let queue: BullDeliveryQueue;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '2000' });
    key = (await hub.workspace()).key;
    receiver = await startReceiver();
    // A Redis URL where nothing listens: the limiter's commands fail at once (fail-fast).
    unreachable = openRedis(`redis://127.0.0.1:${await freePort()}`, 'fail-fast');
    queue = new BullDeliveryQueue(hub.config);
  });
  afterAll(async () => {
    await worker?.close();
    unreachable?.disconnect();
    await queue?.close();
    await receiver?.close();
    await hub?.close();
  });

  it('keeps the deliveries in PostgreSQL, unattempted, then delivers each once', async () => {
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Outage', fields: [{ key: 'n', type: 'integer' }] },
    });
    const formId = form.json().id as string;
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url, rate_limit: { per_second: 5 } },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    const hookId = hook.json().id as string;
    for (let n = 0; n < 3; n++) {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { n } },
      });
      expect(res.statusCode).toBe(201);
    }
    const relay = new OutboxRelay(hub.db, queue, logger);
    while ((await relay.tick()) > 0);

    // A worker whose limiter cannot reach Redis (its queue can).
    const config = hub.config;
    const engine = new DeliveryEngine({
      db: hub.db,
      plugins: await loadAllPlugins(config, logger),
      secrets: new SecretBox(Buffer.from(config.encryptionKey!, 'base64')),
      queue,
      config,
      logger,
      dispatcher: createGuardedAgent({ allowPrivate: true, timeoutMs: config.webhooks.timeoutMs }),
      credentials: createCredentialsResolver(config, logger),
      limiter: new RedisRateLimiter(unreachable, config.redis.prefix),
    });
    const cut = startDeliveryWorker(config, engine, logger);
    const waiting = await eventually(async () => {
      const { rows } = await hub.db.query<{ status: string; attempts: number; due: boolean }>(
        `SELECT d.status, d.attempts, s.due_at > d.created_at AS due
         FROM deliveries d JOIN delivery_schedule s ON s.delivery_id = d.id
         WHERE d.integration_id = $1 AND d.locked_until IS NULL`,
        [hookId],
      );
      return rows.length === 3 && rows.every((r) => r.due) ? rows : undefined;
    });
    await cut.close();
    expect(waiting.every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
    expect(receiver.requests).toHaveLength(0);
    const logged = await hub.db.query('SELECT 1 FROM delivery_attempts');
    expect(logged.rows).toHaveLength(0);

    // Redis answers again: a worker of the hub, and the sweeper queues what waits.
    worker = await startWorker(hub.services);
    const sweeper = new DeliverySweeper(hub.db, queue, logger, {
      graceMs: 0,
      graceMsPerWaitingJob: 0,
    });
    let swept = 0;
    await eventually(async () => ((swept += await sweeper.sweep()) >= 3 ? true : undefined));
    const requests = await receiver.waitFor(3);
    expect(new Set(requests.map((r) => r.headers['x-webhook-id'])).size).toBe(3);
    await eventually(async () => {
      const { rows } = await hub.db.query<{ status: string; attempts: number }>(
        `SELECT status, attempts FROM deliveries WHERE integration_id = $1`,
        [hookId],
      );
      return rows.every((r) => r.status === 'succeeded' && r.attempts === 1) ? rows : undefined;
    });
  });
});
