import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_EVENT_RETENTION_DAYS,
  deleteExpiredOperationalEvents,
} from '../../src/notifications/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/**
 * Operational events (and their channel sends) are pruned like the deliveries they report
 * on: past the workspace's `retention.deliveries_days`, or DEFAULT_EVENT_RETENTION_DAYS when
 * it has none; never while a send is still pending. The worker is off so that sends stay
 * exactly as the test leaves them.
 */
describe('operational event retention', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
  });
  afterAll(async () => {
    await hub?.close();
  });

  async function workspaceWithChannel(name: string, deliveriesDays: number | null) {
    const { id, key } = await hub.workspace(name);
    if (deliveriesDays !== null) {
      const res = await hub.request({
        method: 'PATCH',
        url: '/api/v2/workspace',
        key,
        payload: { retention: { deliveries_days: deliveriesDays } },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    const channel = await hub.request({
      method: 'POST',
      url: '/api/v2/notification-channels',
      key,
      payload: { kind: 'webhook', target: 'http://127.0.0.1:9/ops', events: ['delivery.dead'] },
    });
    expect(channel.statusCode, channel.body).toBe(201);
    return { id, key };
  }

  /** One `delivery.dead` event through the function the triggers call, `daysAgo` old. */
  async function event(workspaceId: string, daysAgo: number, send: 'pending' | 'sent') {
    const integration = crypto.randomUUID();
    await hub.db.query(
      `SELECT record_operational_event($1, 'delivery.dead', $2, 'webhook', NULL, NULL, 'HTTP 500')`,
      [workspaceId, integration],
    );
    const { rows } = await hub.db.query<{ id: string }>(
      `UPDATE operational_events SET created_at = now() - make_interval(days => $2)
        WHERE integration_id = $1 RETURNING id`,
      [integration, daysAgo],
    );
    await hub.db.query(`UPDATE notification_sends SET status = $2 WHERE event_id = $1`, [
      rows[0]!.id,
      send,
    ]);
    return rows[0]!.id;
  }

  async function remaining(ids: string[]) {
    const { rows } = await hub.db.query<{ id: string; sends: string }>(
      `SELECT e.id, (SELECT count(*) FROM notification_sends s WHERE s.event_id = e.id) AS sends
         FROM operational_events e WHERE e.id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, Number(r.sends)]));
  }

  it('deletes events past the deliveries retention or the default, with their sends, batch by batch', async () => {
    const short = await workspaceWithChannel('Seven days', 7);
    const unset = await workspaceWithChannel('Default', null);
    const shortOld = await event(short.id, 10, 'sent');
    const shortPending = await event(short.id, 10, 'pending');
    const shortFresh = await event(short.id, 3, 'sent');
    const unsetKept = await event(unset.id, 30, 'sent');
    const unsetOld = await event(unset.id, DEFAULT_EVENT_RETENTION_DAYS + 1, 'sent');
    const ids = [shortOld, shortPending, shortFresh, unsetKept, unsetOld];
    expect([...(await remaining(ids)).values()]).toEqual([1, 1, 1, 1, 1]);

    // Batches of one: the loop goes on while a batch deleted something.
    const counts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const n = await deleteExpiredOperationalEvents(hub.db, new Date(), 1);
      counts.push(n);
      if (n === 0) break;
    }
    // The database is this file's own: these are the only events.
    expect(counts).toEqual([1, 1, 0]);
    const left = await remaining(ids);
    expect([...left.keys()].sort()).toEqual([shortPending, shortFresh, unsetKept].sort());
    const { rows } = await hub.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM notification_sends WHERE event_id = ANY($1::uuid[])`,
      [[shortOld, unsetOld]],
    );
    expect(Number(rows[0]!.n)).toBe(0);

    // The pending send finishes: the event goes on the next run.
    await hub.db.query(`UPDATE notification_sends SET status = 'failed' WHERE event_id = $1`, [
      shortPending,
    ]);
    expect(await deleteExpiredOperationalEvents(hub.db)).toBe(1);
    expect([...(await remaining(ids)).keys()].sort()).toEqual([shortFresh, unsetKept].sort());

    // Still listed through the API until then, and gone from it after.
    const listed = await hub.request({
      method: 'GET',
      url: '/api/v2/operational-events',
      key: short.key,
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect((listed.json() as { data: { id: string }[] }).data.map((e) => e.id)).toEqual([
      shortFresh,
    ]);
  });
});
