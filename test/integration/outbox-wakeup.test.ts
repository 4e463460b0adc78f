import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * The relay wakes on a commit's NOTIFY (DESIGN.md section 4c). Both polls are set to an
 * hour, so that only the notification can explain a delivery within seconds; on PostgreSQL
 * (a LISTEN on a connection of its own) and on the embedded database (a LISTEN in the
 * PGlite thread's session, renewed when that thread is restarted).
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  OUTBOX_POLL: '1h',
  OUTBOX_POLL_LISTENING: '1h',
};

describe.each([
  { name: 'PostgreSQL', embedded: false },
  { name: 'embedded PGlite', embedded: true },
])('outbox wake-up on $name', ({ embedded }) => {
  let hub: TestHub;
  let receiver: Receiver;
  let formId: string;
  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true, embedded });
    receiver = await startReceiver();
    const { key } = await hub.workspace();
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Woken', fields: [{ key: 'name', type: 'text' }] },
    });
    formId = form.json().id;
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url },
    });
    expect(hook.statusCode).toBe(201);
    await eventually(async () => (hub.worker!.signal.listening ? true : undefined));
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });

  const submit = async (name: string) => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name } },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const wakeups = async (source: string) => {
    const metric = await hub.services.registry
      .getSingleMetric('formhub_relay_wakeups_total')!
      .get();
    return metric.values.find((v) => v.labels.source === source)?.value ?? 0;
  };

  it('delivers each submission on its notification, the poll being an hour', async () => {
    const before = await wakeups('notify');
    for (let i = 1; i <= 3; i++) {
      const id = await submit(`n${i}`);
      const requests = await receiver.waitFor(i, 10_000);
      expect(JSON.parse(requests[i - 1]!.body).response.id).toBe(id);
    }
    expect(await wakeups('notify')).toBeGreaterThanOrEqual(before + 3);
    expect(await wakeups('poll')).toBe(0);
  });

  it('delivers a burst of concurrent submissions: wakes during a tick fold into one more tick', async () => {
    const count = receiver.requests.length;
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(`burst${i}`)));
    await receiver.waitFor(count + 10, 10_000);
    const delivered = receiver.requests.map((r) => JSON.parse(r.body).response.id as string);
    expect(delivered).toEqual(expect.arrayContaining(ids));
    expect(await wakeups('poll')).toBe(0);
  });

  it.runIf(embedded)(
    'listens again after the PGlite thread is restarted, and delivers on the new one',
    async () => {
      // A bounded read past its timeout ends the PGlite thread (pglite-thread-database.ts).
      await expect(
        hub.db.bounded({ timeoutMs: 100 }).query('SELECT pg_sleep(3)'),
      ).rejects.toMatchObject({ code: 'query_timeout' });
      await eventually(async () => (hub.worker!.signal.listening ? true : undefined));
      const count = receiver.requests.length;
      const id = await submit('after-restart');
      const requests = await receiver.waitFor(count + 1, 10_000);
      expect(requests.at(-1)!.body).toContain(id);
    },
  );
});
