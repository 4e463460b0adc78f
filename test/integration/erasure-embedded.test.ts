import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErasureRunner, hubErasureCaches } from '../../src/erasure/index.ts';
import { caller, expectMetricsEqualSql, sqlCount, type ErasureBody } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const FIELDS = [
  { key: 'email', type: 'email' },
  { key: 'color', type: 'select', options: ['red', 'green', 'blue'] },
];

describe('erasure on the embedded database, batch by batch', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub({}, { embedded: true });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('goes queued -> running (counts growing per batch) -> succeeded, and the metrics equal SQL', async () => {
    const { key } = await hub.workspace('Embedded');
    const call = caller(hub, key);
    const form = await call('POST', '/forms', { title: 'E', fields: FIELDS });
    for (let i = 0; i < 5; i++)
      await call(
        'POST',
        `/forms/${form.id}/responses`,
        { data: { email: 'ada@example.com', color: i % 2 ? 'red' : 'blue' } },
        { 'idempotency-key': `k${i}` },
      );
    await call('POST', `/forms/${form.id}/responses`, {
      data: { email: 'bob@example.com', color: 'red' },
    });
    expect(
      (await call<{ total: number }>('GET', `/analytics/forms/${form.id}/metrics`)).total,
    ).toBe(6);
    const { id } = await call('POST', '/erasures', {
      form_id: form.id,
      match: { 'data.email': 'ada@example.com' },
    });
    const status = () => call<ErasureBody>('GET', `/erasures/${id}`);
    expect(await status()).toMatchObject({ status: 'queued', finished_at: null });

    // No worker here: the runner is driven by hand, 2 responses a batch, and each batch is
    // visible in GET while the job runs.
    const seen: [string, number][] = [];
    const caches = hubErasureCaches(
      hub.services.metrics,
      hub.services.caches,
      pino({ level: 'silent' }),
    );
    const runner = new ErasureRunner({
      db: hub.db,
      logger: pino({ level: 'silent' }),
      batch: 2,
      caches: {
        forgetMetrics: async (formId) => {
          const now = await status();
          seen.push([now.status, now.counts.responses ?? -1]);
          await caches.forgetMetrics(formId);
        },
        forgetRoutes: caches.forgetRoutes,
      },
    });
    expect(await runner.tick()).toBe(1);
    expect(seen).toEqual([
      ['running', 2],
      ['running', 4],
      ['running', 5],
      ['succeeded', 5],
    ]);
    const done = await status();
    expect(done).toMatchObject({
      status: 'succeeded',
      counts: {
        responses: 5,
        events: 5,
        deliveries: 0,
        attempts: 0,
        idempotency_records: 5,
        export_files: 0,
      },
    });
    expect(await runner.tick()).toBe(0); // nothing queued any more
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM responses WHERE form_id = $1', [form.id]),
    ).toBe(1);
    await expectMetricsEqualSql(hub, key, form.id, 'color');
  });
});
