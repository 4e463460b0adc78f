import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * The embedded database (PGlite) runs migration 0014's triggers and the notifier's claim
 * (FOR UPDATE SKIP LOCKED) as PostgreSQL does: the events of a 410 and of a recovery reach
 * a signed webhook channel.
 */
describe('notification channels on the embedded database', () => {
  let hub: TestHub;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms,200ms' },
      { worker: true, embedded: true },
    );
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  it('sends integration.recovered and integration.disabled to a webhook channel', async () => {
    const { id: workspaceId, key } = await hub.workspace();
    const sink = await startReceiver();
    receivers.push(sink);
    const channel = await hub.request({
      method: 'POST',
      url: '/api/v2/notification-channels',
      key,
      payload: { kind: 'webhook', target: sink.url },
    });
    expect(channel.statusCode, channel.body).toBe(201);
    const secret = (channel.json() as { secret: string }).secret;
    // 503, then 200 (recovered), then 410 (disabled).
    const target = await startReceiver((n) => ({ status: [503, 200][n - 1] ?? 410 }));
    receivers.push(target);
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Embedded', fields: [{ key: 'name', type: 'text' }] },
    });
    const formId = (form.json() as { id: string }).id;
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: target.url },
    });
    const hookId = (hook.json() as { id: string }).id;
    const submit = () =>
      hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { name: 'x' } },
      });
    await submit();
    await sink.waitFor(1, 60_000);
    await submit();
    const received = await sink.waitFor(2, 60_000);
    const bodies = received.map(
      (r) =>
        new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          workspace_id: string;
          integration: { id: string };
        },
    );
    expect(bodies.map((b) => b.type)).toEqual(['integration.recovered', 'integration.disabled']);
    expect(bodies.every((b) => b.integration.id === hookId && b.workspace_id === workspaceId)).toBe(
      true,
    );
    const events = await eventually(async () => {
      const res = await hub.request({ method: 'GET', url: '/api/v2/operational-events', key });
      const data = (res.json() as { data: { type: string; sends: { status: string }[] }[] }).data;
      return data.every((e) => e.sends[0]?.status === 'sent') ? data : undefined;
    });
    expect(events.map((e) => e.type)).toEqual(['integration.disabled', 'integration.recovered']);
  });
});
