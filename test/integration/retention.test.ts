import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredDeliveries, type RetentionCursor } from '../../src/delivery/index.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';
import { listDeliveries, settledDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/** A workspace with a webhook to `url` and `count` delivered submissions. */
async function workspaceWithDeliveries(hub: TestHub, name: string, url: string, count: number) {
  const { key } = await hub.workspace(name);
  const call = async (method: 'POST' | 'PATCH', path: string, payload: object) => {
    const res = await hub.request({ method, url: `/api/v2${path}`, key, payload });
    if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string };
  };
  const form = await call('POST', '/forms', { title: name, fields: [{ key: 'n', type: 'text' }] });
  const hook = await call('POST', `/forms/${form.id}/webhooks`, { url });
  for (let i = 0; i < count; i++)
    await call('POST', `/forms/${form.id}/responses`, { data: { n: `${name} ${i}` } });
  return { key, formId: form.id, hookId: hook.id, call };
}

async function age(hub: TestHub, ids: string[], days: number) {
  await hub.db.query(
    `UPDATE deliveries SET created_at = now() - make_interval(days => $2) WHERE id = ANY($1::uuid[])`,
    [ids, days],
  );
}

describe('delivery retention (DESIGN.md section 4b)', () => {
  let hub: TestHub;
  let ok: Receiver;
  let failing: Receiver;

  beforeAll(async () => {
    // A failed attempt waits an hour for its retry: that delivery stays unfinished.
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '1h' },
      { worker: true },
    );
    ok = await startReceiver(() => ({ status: 200 }));
    failing = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await hub?.close();
    await ok?.close();
    await failing?.close();
  });

  it('deletes finished deliveries older than the workspace keeps, with their attempts, batch by batch', async () => {
    const kept = await workspaceWithDeliveries(hub, 'Kept', `${ok.url}/kept`, 5);
    const pruned = await workspaceWithDeliveries(hub, 'Pruned', `${ok.url}/pruned`, 5);
    const keptRows = await settledDeliveries(hub, kept.key, kept.hookId, 5);
    const prunedRows = await settledDeliveries(hub, pruned.key, pruned.hookId, 5);
    // One more hook of the pruned workspace fails once: its old delivery is not finished.
    const formId = pruned.formId;
    const slowHook = await pruned.call('POST', `/forms/${formId}/webhooks`, { url: failing.url });
    await pruned.call('POST', `/forms/${formId}/responses`, { data: { n: 'unfinished' } });
    const unfinished = await eventually(async () => {
      const rows = await listDeliveries(hub, pruned.key, slowHook.id);
      return rows.find((d) => d.status === 'failed' && d.attempts.length === 1);
    });

    const old = prunedRows.slice(0, 3).map((d) => d.id);
    await age(hub, [...old, unfinished.id], 10);
    await age(
      hub,
      keptRows.slice(0, 3).map((d) => d.id),
      10,
    );

    const set = await pruned.call('PATCH', '/workspace', { retention: { deliveries_days: 7 } });
    expect(set).toMatchObject({ retention: { deliveries_days: 7, responses_days: null } });

    let total = 0;
    for (let round = 0; round < 10; round++) {
      const deleted = await deleteExpiredDeliveries(hub.db, new Date(), 2);
      total += deleted;
      if (deleted === 0) break;
      expect(deleted).toBeLessThanOrEqual(2);
    }
    expect(total).toBe(3);

    // Left: the two recent ones, and the delivery of the 'unfinished' submission to this hook.
    const left = (await listDeliveries(hub, pruned.key, pruned.hookId)).map((d) => d.id);
    expect(left).toHaveLength(3);
    expect(left).toEqual(expect.arrayContaining(prunedRows.slice(3).map((d) => d.id)));
    expect(left.filter((id) => old.includes(id))).toEqual([]);
    const attempts = await hub.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id = ANY($1::uuid[])',
      [old],
    );
    expect(Number(attempts.rows[0]!.n)).toBe(0);
    const replay = await hub.request({
      method: 'POST',
      url: `/api/v2/deliveries/${old[0]}/replay`,
      key: pruned.key,
    });
    expect(replay.statusCode).toBe(404);
    // The unfinished one waits for its retry; the other workspace keeps everything.
    expect((await listDeliveries(hub, pruned.key, slowHook.id)).map((d) => d.id)).toEqual([
      unfinished.id,
    ]);
    expect(await listDeliveries(hub, kept.key, kept.hookId)).toHaveLength(5);
  });

  it('one drain with a cursor deletes every expired delivery once, microsecond ties included', async () => {
    // Both hooks exist before the first submission, so each gets every event exactly once.
    const ws = await workspaceWithDeliveries(hub, 'Drained', `${ok.url}/drained`, 0);
    const second = await ws.call('POST', `/forms/${ws.formId}/webhooks`, {
      url: `${ok.url}/drained-2`,
    });
    for (let i = 0; i < 7; i++)
      await ws.call('POST', `/forms/${ws.formId}/responses`, { data: { n: `drained ${i}` } });
    const first = await settledDeliveries(hub, ws.key, ws.hookId, 7);
    const other = await settledDeliveries(hub, ws.key, second.id, 7);
    // Every delivery within one millisecond, a microsecond apart: a cursor kept as a JS Date
    // (milliseconds) would skip some or delete none; one kept as text does neither.
    await hub.db.query(
      `UPDATE deliveries d SET created_at = date_trunc('milliseconds', now()) - interval '10 days'
                                            + n.i * interval '1 microsecond'
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS i
                 FROM deliveries WHERE id = ANY($1::uuid[])) n
        WHERE d.id = n.id`,
      [[...first, ...other].map((d) => d.id)],
    );
    await ws.call('PATCH', '/workspace', { retention: { deliveries_days: 7 } });

    const cursor: RetentionCursor = new Map();
    const calls: number[] = [];
    for (let round = 0; round < 10; round++) {
      const deleted = await deleteExpiredDeliveries(hub.db, new Date(), 2, cursor);
      calls.push(deleted);
      if (deleted === 0) break;
    }
    // 7 of each hook in batches of 2: the fourth batch is short, so both are done.
    expect(calls).toEqual([4, 4, 4, 2, 0]);
    expect(await listDeliveries(hub, ws.key, ws.hookId)).toEqual([]);
    expect(await listDeliveries(hub, ws.key, second.id)).toEqual([]);
    expect([cursor.get(ws.hookId), cursor.get(second.id)]).toEqual(['done', 'done']);
  });

  it('shows and validates the retention settings', async () => {
    const { key } = await hub.workspace('Settings');
    const get = async () =>
      (await hub.request({ method: 'GET', url: '/api/v2/workspace', key })).json() as {
        name: string;
        retention: Record<string, unknown>;
      };
    expect((await get()).retention).toEqual({ deliveries_days: null, responses_days: null });
    const patch = (payload: object) =>
      hub.request({ method: 'PATCH', url: '/api/v2/workspace', key, payload });
    expect((await patch({ retention: { deliveries_days: 30 } })).statusCode).toBe(200);
    expect((await patch({ name: 'Renamed' })).statusCode).toBe(200);
    expect(await get()).toMatchObject({
      name: 'Renamed',
      retention: { deliveries_days: 30, responses_days: null },
    });
    for (const bad of [
      { retention: { deliveries_days: 0 } },
      { retention: { deliveries_days: 3651 } },
      { retention: { deliveries_days: 1.5 } },
      { retention: { weeks: 2 } },
      { retention: { responses_days: 0 } },
    ]) {
      const res = await patch(bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(422);
    }
    expect((await patch({ retention: { responses_days: 30 } })).json()).toMatchObject({
      retention: { deliveries_days: 30, responses_days: 30 },
    });
    expect((await patch({ retention: { deliveries_days: null } })).statusCode).toBe(200);
    expect((await get()).retention.deliveries_days).toBeNull();
  });
});
