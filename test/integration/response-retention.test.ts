import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredResponses, hubErasureCaches } from '../../src/erasure/index.ts';
import { listDeliveries, settledDeliveries } from '../support/deliveries.ts';
import { caller, expectMetricsEqualSql, sqlCount } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const FIELDS = [
  { key: 'email', type: 'email' },
  { key: 'color', type: 'select', options: ['red', 'green', 'blue'] },
];
const DAY = 86_400_000;

describe('responses retention (DESIGN.md section 4b)', () => {
  let hub: TestHub;
  let receiver: Receiver;

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { worker: true });
    receiver = await startReceiver(() => ({ status: 200 }));
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });

  it('erases responses submitted before the workspace keeps them, with their data, in batches; metrics equal SQL', async () => {
    const ws = await hub.workspace('Retained');
    const other = await hub.workspace('Keeps all');
    const call = caller(hub, ws.key);
    const form = await call('POST', '/forms', { title: 'Old and new', fields: FIELDS });
    const hook = await call('POST', `/forms/${form.id}/webhooks`, { url: receiver.url });
    const old = new Date(Date.now() - 40 * DAY).toISOString();
    await call('POST', `/forms/${form.id}/responses/import`, [
      { data: { email: 'old1@example.com', color: 'red' }, submitted_at: old },
      { data: { email: 'old2@example.com', color: 'blue' }, submitted_at: old },
    ]);
    // Submitted through the API (events, deliveries), then made old in SQL.
    const aged = [];
    for (const color of ['red', 'green', 'green'])
      aged.push(
        await call('POST', `/forms/${form.id}/responses`, {
          data: { email: `aged-${color}@example.com`, color },
        }),
      );
    const fresh = await call('POST', `/forms/${form.id}/responses`, {
      data: { email: 'fresh@example.com', color: 'red' },
      completed: true,
    });
    await settledDeliveries(hub, ws.key, hook.id, 4);
    const agedIds = aged.map((r) => r.id);
    await hub.db.query(
      `UPDATE responses SET submitted_at = now() - interval '35 days' WHERE id = ANY($1::uuid[])`,
      [agedIds],
    );
    const theirs = await caller(hub, other.key)('POST', '/forms', { title: 'T', fields: FIELDS });
    await caller(hub, other.key)('POST', `/forms/${theirs.id}/responses/import`, [
      { data: { email: 'theirs@example.com', color: 'red' }, submitted_at: old },
    ]);
    expect(
      (await call<{ total: number }>('GET', `/analytics/forms/${form.id}/metrics`)).total,
    ).toBe(6);
    const events = await sqlCount(
      hub,
      `SELECT count(*) AS n FROM outbox WHERE payload -> 'response' ->> 'id' = ANY($1::text[])`,
      [agedIds],
    );
    expect(events).toBe(3);

    const set = await call('PATCH', '/workspace', { retention: { responses_days: 30 } });
    expect(set).toMatchObject({ retention: { responses_days: 30, deliveries_days: null } });
    const caches = hubErasureCaches(
      hub.services.metrics,
      hub.services.caches,
      pino({ level: 'silent' }),
    );
    let total = { responses: 0, events: 0, deliveries: 0, attempts: 0 };
    for (let round = 0; round < 10; round++) {
      const erased = await deleteExpiredResponses(hub.db, caches, new Date(), 2);
      expect(erased.responses).toBeLessThanOrEqual(2);
      total = {
        responses: total.responses + erased.responses,
        events: total.events + erased.events,
        deliveries: total.deliveries + erased.deliveries,
        attempts: total.attempts + erased.attempts,
      };
      if (erased.responses === 0) break;
    }
    expect(total).toEqual({ responses: 5, events: 3, deliveries: 3, attempts: 3 });

    const left = await hub.db.query<{ id: string }>('SELECT id FROM responses WHERE form_id = $1', [
      form.id,
    ]);
    expect(left.rows.map((r) => r.id)).toEqual([fresh.id]);
    expect(await listDeliveries(hub, ws.key, hook.id)).toHaveLength(1);
    expect(
      await sqlCount(
        hub,
        `SELECT count(*) AS n FROM outbox WHERE payload -> 'response' ->> 'id' = ANY($1::text[])`,
        [agedIds],
      ),
    ).toBe(0);
    await expectMetricsEqualSql(hub, ws.key, form.id, 'color');
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM responses WHERE form_id = $1', [theirs.id]),
    ).toBe(1);
  });
});
