import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredDeliveries, DeliveryStats } from '../../src/delivery/index.ts';
import { latencyBucket, LATENCY_BUCKETS, quantileMs } from '../../src/delivery/stats-histogram.ts';
import { startWorker, type RunningWorker } from '../../src/worker/index.ts';
import { settledDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { mulberry32 } from '../support/random.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

interface Stats {
  window: string;
  delivered: number;
  failed_attempts: number;
  dead: number;
  pending: number;
  filtered: number;
  success_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null };
  buckets: { t: string; delivered: number; failed: number }[];
}

/**
 * The oracle: what the attempt log, the deliveries and the outbox say for the window that
 * starts at `from` (the API must agree without ever reading them).
 */
async function fromLog(hub: TestHub, integrationId: string, formId: string, from: string) {
  const { rows } = await hub.db.query<{
    delivered: string;
    failed: string;
    dead: string;
    pending: string;
    made: string;
    events: string;
  }>(
    `SELECT
       (SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.integration_id = $1 AND a.at >= $2 AND a.error IS NULL) AS delivered,
       (SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.integration_id = $1 AND a.at >= $2 AND a.error IS NOT NULL) AS failed,
       (SELECT count(*) FROM deliveries d WHERE d.integration_id = $1 AND d.status = 'dead'
         AND (SELECT max(a.at) FROM delivery_attempts a WHERE a.delivery_id = d.id) >= $2) AS dead,
       (SELECT count(*) FROM deliveries d WHERE d.integration_id = $1
         AND d.status IN ('pending', 'failed')) AS pending,
       (SELECT count(*) FROM deliveries d WHERE d.integration_id = $1
         AND d.event_type = 'response.submitted') AS made,
       (SELECT count(*) FROM outbox o WHERE o.form_id = $3
         AND o.event_type = 'response.submitted') AS events`,
    [integrationId, from, formId],
  );
  const r = rows[0]!;
  const latencies = await hub.db.query<{ latency_ms: number }>(
    `SELECT a.latency_ms FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
     WHERE d.integration_id = $1 AND a.at >= $2`,
    [integrationId, from],
  );
  const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
  for (const { latency_ms } of latencies.rows) histogram[latencyBucket(latency_ms)]! += 1;
  const delivered = Number(r.delivered);
  const dead = Number(r.dead);
  return {
    delivered,
    failed_attempts: Number(r.failed),
    dead,
    pending: Number(r.pending),
    filtered: Number(r.events) - Number(r.made),
    success_rate: delivered + dead === 0 ? null : delivered / (delivered + dead),
    latency_ms: { p50: quantileMs(histogram, 0.5), p95: quantileMs(histogram, 0.95) },
  };
}

describe('delivery stats (DESIGN.md section 4b)', () => {
  let hub: TestHub;
  let target: Receiver;
  /** Response ids the receiver has failed once already (the "flaky" ones fail only once). */
  const failedOnce = new Set<string>();

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    // n < 10 succeeds, 10 <= n < 20 fails once then succeeds, 20 <= n < 30 always fails.
    target = await startReceiver((_, request) => {
      const event = JSON.parse(request.body) as { response: { id: string; data: { n: number } } };
      const { n } = event.response.data;
      if (n >= 20) return { status: 500 };
      if (n >= 10 && !failedOnce.has(event.response.id)) {
        failedOnce.add(event.response.id);
        return { status: 503 };
      }
      return { status: 200 };
    });
  });
  /** Workers a test started and has not closed (a failed test's must not count for the next). */
  const running = new Set<RunningWorker>();
  const start = async (options?: { statsFlushMs: number }) => {
    const worker = await startWorker(hub.services, options);
    running.add(worker);
    return {
      ...worker,
      close: async () => {
        running.delete(worker);
        await worker.close();
      },
    };
  };
  afterAll(async () => {
    for (const worker of running) await worker.close();
    await hub?.close();
    await target?.close();
  });

  async function setup(name: string, extra: object = {}) {
    const { key } = await hub.workspace(name);
    const call = async (method: 'POST' | 'PATCH', path: string, payload: object) => {
      const res = await hub.request({ method, url: `/api/v2${path}`, key, payload });
      if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${res.body}`);
      return res.json() as { id: string };
    };
    const form = await call('POST', '/forms', {
      title: name,
      fields: [{ key: 'n', type: 'integer' }],
    });
    const hook = await call('POST', `/forms/${form.id}/webhooks`, {
      url: target.url,
      condition: { 'data.n': { $lt: 100 } },
      retry: { schedule: ['100ms'] },
      ...extra,
    });
    const submit = (n: number) => call('POST', `/forms/${form.id}/responses`, { data: { n } });
    return { key, formId: form.id, hookId: hook.id, submit, call };
  }

  const stats = async (key: string, path: string, window?: string) => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2${path}/stats${window ? `?window=${window}` : ''}`,
      key,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Stats;
  };

  it('counts successes, retried failures, dead deliveries and filtered events as the attempt log says', async () => {
    const worker = await start();
    const a = await setup('Mixed');
    // Filtered first: once the later deliveries have settled, the relay has passed these.
    for (const n of [100, 150, 200]) await a.submit(n);
    for (const n of [1, 2, 3, 11, 12, 21, 22]) await a.submit(n);
    await settledDeliveries(hub, a.key, a.hookId, 7);
    // An attempt is counted just after its log row commits: wait for the last one.
    await counted(worker, 11);
    await worker.stats.flush();

    for (const window of ['1h', '24h', '7d', undefined]) {
      const got = await stats(a.key, `/webhooks/${a.hookId}`, window);
      const expected = await fromLog(hub, a.hookId, a.formId, got.buckets[0]!.t);
      expect(got.window).toBe(window ?? '24h');
      expect(got).toMatchObject(expected);
      // 3 ok + 2 flaky delivered; 2 flaky first tries + 2 x 2 tries of the dead ones failed.
      expect(got).toMatchObject({ delivered: 5, failed_attempts: 6, dead: 2, filtered: 3 });
      expect(got.success_rate).toBeCloseTo(5 / 7);
      expect(got.latency_ms.p95).not.toBeNull();
      expect(got.buckets.reduce((sum, b) => sum + b.delivered, 0)).toBe(got.delivered);
      expect(got.buckets.reduce((sum, b) => sum + b.failed, 0)).toBe(got.failed_attempts);
    }
    // The same numbers through the integration route.
    expect(await stats(a.key, `/integrations/${a.hookId}`, '1h')).toMatchObject({
      delivered: 5,
      dead: 2,
    });

    // Stats are history: retention deleting the deliveries changes none of them.
    const before = await stats(a.key, `/webhooks/${a.hookId}`, '7d');
    await a.call('PATCH', '/workspace', { retention: { deliveries_days: 1 } });
    await hub.db.query(
      `UPDATE deliveries SET created_at = now() - interval '2 days' WHERE integration_id = $1`,
      [a.hookId],
    );
    expect(await deleteExpiredDeliveries(hub.db)).toBe(7);
    expect(await stats(a.key, `/webhooks/${a.hookId}`, '7d')).toEqual(before);
    await worker.close();
  });

  it('agrees with the attempt log over random traffic, in every window', async () => {
    const worker = await start();
    const r = await setup('Random');
    const random = mulberry32(20_261_207);
    let attempts = 0;
    let deliveries = 0;
    // Any mix of: filtered (>= 100), ok (< 10, 1 attempt), flaky (1 failure, then ok) and
    // dead (2 failed attempts: the hook's schedule has one retry).
    for (let i = 0; i < 40; i++) {
      const kind = Math.floor(random() * 4);
      const n = [100 + i, i % 10, 10 + (i % 10), 20 + (i % 10)][kind]!;
      await r.submit(n);
      if (kind > 0) deliveries += 1;
      attempts += [0, 1, 2, 2][kind]!;
    }
    await settledDeliveries(hub, r.key, r.hookId, deliveries, 'webhooks', 30_000);
    await counted(worker, attempts);
    await worker.stats.flush();
    for (const window of ['1h', '24h', '7d']) {
      const got = await stats(r.key, `/webhooks/${r.hookId}`, window);
      expect(got).toMatchObject(await fromLog(hub, r.hookId, r.formId, got.buckets[0]!.t));
      expect(got.delivered + got.failed_attempts).toBe(attempts);
    }
    await worker.close();
  });

  it('shapes each window into its buckets and leaves out what is older', async () => {
    const { key, hookId } = await setup('Windows');
    const counter = new DeliveryStats(hub.db, pino({ level: 'silent' }));
    const now = Date.now();
    const ago = (ms: number) => new Date(now - ms);
    counter.recordAttempt(hookId, ago(0), true, false, 12);
    counter.recordAttempt(hookId, ago(2 * 3_600_000), false, true, 250);
    counter.recordAttempt(hookId, ago(3 * 86_400_000), true, false, 40);
    counter.recordAttempt(hookId, ago(10 * 86_400_000), true, false, 40);
    counter.recordFiltered(hookId, 4, ago(30 * 60_000));
    await counter.close();

    const hour = await stats(key, `/webhooks/${hookId}`, '1h');
    expect(hour).toMatchObject({ delivered: 1, failed_attempts: 0, dead: 0, filtered: 4 });
    expect(hour.buckets).toHaveLength(12);
    expect(hour.latency_ms).toEqual({ p50: quantileMs(hist([12]), 0.5), p95: 14 });
    const day = await stats(key, `/webhooks/${hookId}`, '24h');
    expect(day).toMatchObject({ delivered: 1, failed_attempts: 1, dead: 1, success_rate: 0.5 });
    expect(day.buckets).toHaveLength(24);
    const week = await stats(key, `/webhooks/${hookId}`, '7d');
    expect(week).toMatchObject({ delivered: 2, failed_attempts: 1, dead: 1, filtered: 4 });
    expect(week.buckets).toHaveLength(28);
    for (const [shaped, stepMs] of [
      [hour, 5 * 60_000],
      [day, 3_600_000],
      [week, 6 * 3_600_000],
    ] as const) {
      const starts = shaped.buckets.map((b) => Date.parse(b.t));
      expect(starts.every((t, i) => i === 0 || t - starts[i - 1]! === stepMs)).toBe(true);
      expect(starts[0]! % stepMs).toBe(0);
      expect(starts.at(-1)).toBeLessThanOrEqual(now);
      expect(starts.at(-1)! + stepMs).toBeGreaterThan(now);
    }
  });

  it('counts a delivery waiting for its retry as pending', async () => {
    const worker = await start();
    const { key, hookId, submit } = await setup('Waiting', { retry: { schedule: ['1h'] } });
    await submit(25);
    await eventually(async () => {
      const { rows } = await hub.db.query(
        `SELECT 1 FROM deliveries WHERE integration_id = $1 AND status = 'failed' AND attempts = 1`,
        [hookId],
      );
      return rows.length === 1 || undefined;
    });
    await counted(worker, 1);
    await worker.stats.flush();
    const got = await stats(key, `/webhooks/${hookId}`, '1h');
    expect(got).toMatchObject({ pending: 1, delivered: 0, failed_attempts: 1, dead: 0 });
    expect(got.success_rate).toBeNull();
    await worker.close();
  });

  it('answers 404 for another workspace, 400 for a bad window', async () => {
    const mine = await setup('Mine');
    const other = await hub.workspace('Other');
    const get = (key: string, url: string) => hub.request({ method: 'GET', url, key });
    expect((await get(other.key, `/api/v2/webhooks/${mine.hookId}/stats`)).statusCode).toBe(404);
    expect((await get(other.key, `/api/v2/integrations/${mine.hookId}/stats`)).statusCode).toBe(
      404,
    );
    expect((await get(mine.key, `/api/v2/webhooks/not-a-uuid/stats`)).statusCode).toBe(404);
    const bad = await get(mine.key, `/api/v2/webhooks/${mine.hookId}/stats?window=2h`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { details: [{ field: 'window' }] } });
  });

  it('loses nothing at shutdown, and two workers count each attempt once', async () => {
    // Written only when a worker closes: every count must survive the shutdown.
    const options = { statsFlushMs: 3_600_000 };
    const s = await setup('Shutdown');
    let worker = await start(options);
    for (const n of [1, 11, 21]) await s.submit(n);
    await settledDeliveries(hub, s.key, s.hookId, 3);
    await worker.close();
    const first = await stats(s.key, `/webhooks/${s.hookId}`, '1h');
    expect(first).toMatchObject(await fromLog(hub, s.hookId, s.formId, first.buckets[0]!.t));
    expect(first).toMatchObject({ delivered: 2, failed_attempts: 3, dead: 1 });

    // Reopened, then two at once.
    worker = await start(options);
    const second = await start(options);
    const count = 40;
    for (let i = 0; i < count; i++) await s.submit(i % 3 === 0 ? 11 : i % 30);
    await settledDeliveries(hub, s.key, s.hookId, 3 + count, 'webhooks', 30_000);
    const attempts = worker.stats.attempts + second.stats.attempts;
    await Promise.all([worker.close(), second.close()]);
    const after = await stats(s.key, `/webhooks/${s.hookId}`, '1h');
    const expected = await fromLog(hub, s.hookId, s.formId, after.buckets[0]!.t);
    expect(after).toMatchObject(expected);
    expect(attempts).toBe(expected.delivered + expected.failed_attempts - 5);
    expect(worker.stats.attempts).toBeGreaterThan(0);
    expect(second.stats.attempts).toBeGreaterThan(0);
  });
});

describe('delivery stats on the embedded database', () => {
  it('adds counts and reads them back', async () => {
    const hub = await startHub({}, { embedded: true });
    try {
      const { key } = await hub.workspace('Embedded');
      const form = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'E', fields: [{ key: 'n', type: 'integer' }] },
      });
      const hook = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${(form.json() as { id: string }).id}/webhooks`,
        key,
        payload: { url: 'https://example.com/hook' },
      });
      const hookId = (hook.json() as { id: string }).id;
      // Two flushes into one row: the second adds to the first, histogram included.
      const counter = new DeliveryStats(hub.db, pino({ level: 'silent' }));
      counter.recordAttempt(hookId, new Date(), true, false, 5);
      await counter.flush();
      counter.recordAttempt(hookId, new Date(), false, true, 5);
      counter.recordFiltered(hookId, 2);
      await counter.close();
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/webhooks/${hookId}/stats`,
        key,
      });
      expect(res.json()).toMatchObject({
        delivered: 1,
        failed_attempts: 1,
        dead: 1,
        filtered: 2,
        pending: 0,
        success_rate: 0.5,
        latency_ms: { p50: 6, p95: 6 },
      });
    } finally {
      await hub.close();
    }
  });
});

/** Waits until a worker has counted `n` attempts. */
function counted(worker: RunningWorker, n: number) {
  return eventually(async () => worker.stats.attempts >= n || undefined);
}

function hist(latencies: number[]): number[] {
  const h = new Array<number>(LATENCY_BUCKETS).fill(0);
  for (const ms of latencies) h[latencyBucket(ms)]! += 1;
  return h;
}
