import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME } from '../../src/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * The outbox listener's connection drops (DESIGN.md section 4c): it reconnects, LISTENs
 * again and wakes the relay once, so that what was committed while it was down is relayed
 * at once. Both polls are an hour: only the listener can explain a delivery within seconds.
 * PostgreSQL itself is never restarted (others use it): the listener's session is ended
 * with pg_terminate_backend, or cut by a TCP proxy between the hub and PostgreSQL that
 * drops the listener's sessions and refuses new ones while the rest of the hub goes on.
 */
describe('outbox listener reconnects', () => {
  let database: TestDatabase;
  let proxy: PgProxy;
  let hub: TestHub;
  let receiver: Receiver;
  let admin: pg.Client;
  let formId: string;
  let dbName: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dbName = new URL(database.url).pathname.slice(1);
    proxy = await startPgProxy(database.url, LISTENER_APPLICATION_NAME);
    hub = await startHub(
      {
        DATABASE_URL: proxy.url,
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        OUTBOX_POLL: '1h',
        OUTBOX_POLL_LISTENING: '1h',
      },
      { worker: true },
    );
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    receiver = await startReceiver();
    const { key } = await hub.workspace();
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Reconnected', fields: [{ key: 'name', type: 'text' }] },
    });
    formId = form.json().id;
    await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url },
    });
    await listening(true);
  });
  afterAll(async () => {
    await hub?.close();
    await admin?.end();
    await proxy?.close();
    await receiver?.close();
    await database?.drop();
  });

  const listening = (up: boolean) =>
    eventually(async () => (hub.worker!.signal.listening === up ? true : undefined));
  const listenerPids = async () =>
    (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
        [dbName, LISTENER_APPLICATION_NAME],
      )
    ).rows.map((r) => r.pid);
  const submit = async (name: string) => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name } },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const delivered = async (id: string) => {
    await eventually(
      async () => (receiver.requests.some((r) => r.body.includes(id)) ? true : undefined),
      10_000,
    );
  };

  it('listens on a session of its own, named formhub-listener, that runs LISTEN', async () => {
    const { rows } = await admin.query<{ query: string }>(
      `SELECT query FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
      [dbName, LISTENER_APPLICATION_NAME],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.query).toMatch(/^(LISTEN|SELECT 1)/);
    await delivered(await submit('first'));
  });

  it('after pg_terminate_backend, listens on a new session and delivers on its notifications', async () => {
    const [old] = await listenerPids();
    expect(old).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [old]);
    // A new session, LISTENing (the old one may linger in pg_stat_activity for a moment).
    await eventually(async () => {
      const pids = await listenerPids();
      return pids.length === 1 && pids[0] !== old && hub.worker!.signal.listening
        ? true
        : undefined;
    });
    await delivered(await submit('after-terminate'));
  });

  it('cut off by the network: a submission made meanwhile is relayed as soon as it listens again, and the next one on its notification', async () => {
    proxy.cut();
    await listening(false);
    const during = await submit('while-down');
    // Nothing polls within the hour and nothing listens: the event waits in the outbox.
    const { rows } = await admin.query(
      `SELECT dispatched_at FROM outbox WHERE payload -> 'response' ->> 'id' = $1`,
      [during],
    );
    expect(rows).toEqual([{ dispatched_at: null }]);
    proxy.restore();
    await listening(true);
    await delivered(during);
    await delivered(await submit('after-reconnect'));
    const metric = await hub.services.registry
      .getSingleMetric('formhub_relay_wakeups_total')!
      .get();
    const poll = metric.values.find((v) => v.labels.source === 'poll')?.value ?? 0;
    expect(poll).toBe(0);
  });
});
