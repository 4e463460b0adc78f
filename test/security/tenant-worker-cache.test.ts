import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledDeliveries, type Delivery } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * Issue #13, attack 4: the worker kept integration rows for a second, so right after
 * rotate-secret deliveries were signed with the old secret only, and a webhook just turned
 * off or deleted was still delivered to. Each test first makes the worker read (and cache)
 * the webhook with one delivery, then changes it and, with no wait, delivers again.
 */
describe('a change through the API holds for the very next attempt (worker cache)', () => {
  let hub: TestHub;
  let key: string;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    hub = await startHub(
      {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '100ms',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
      { worker: true },
    );
    key = (await hub.workspace()).key;
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  async function newForm(): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Cached', fields: [{ key: 'name', type: 'text' }] },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  async function hook(formId: string, url: string): Promise<{ id: string; secret: string }> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; secret: string };
  }

  async function submit(formId: string, name: string): Promise<void> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name } },
    });
    expect(res.statusCode, res.body).toBe(201);
  }

  it('rotate-secret followed at once by a delivery: it carries both the new and the old signature', async () => {
    const r = await receiver();
    const formId = await newForm();
    const created = await hook(formId, r.url);
    await submit(formId, 'before');
    await r.waitFor(1); // the worker has now read (and cached) the webhook

    const rotated = await hub.request({
      method: 'POST',
      url: `/api/v2/webhooks/${created.id}/rotate-secret`,
      key,
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const fresh = (rotated.json() as { secret: string }).secret;
    await submit(formId, 'after');
    const [, request] = await r.waitFor(2);
    const headers = request!.headers as Record<string, string>;
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(fresh).verify(request!.body, headers)).toMatchObject({
      event: 'response.submitted',
    });
    expect(new Webhook(created.secret).verify(request!.body, headers)).toMatchObject({
      event: 'response.submitted',
    });
    const hex = (secret: string) =>
      createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
        .update(`${headers['x-webhook-id']}.${headers['x-webhook-timestamp']}.${request!.body}`)
        .digest('hex');
    expect(headers['x-webhook-signature']!.split(',').sort()).toEqual(
      [`sha256=${hex(fresh)}`, `sha256=${hex(created.secret)}`].sort(),
    );
  });

  for (const change of ['deactivate', 'delete'] as const) {
    it(`${change} followed at once by a replay and a new event: nothing reaches the webhook`, async () => {
      const target = await receiver();
      const sentinel = await receiver();
      const formId = await newForm();
      const victim = await hook(formId, target.url);
      await hook(formId, sentinel.url);
      await submit(formId, 'first');
      const [first] = await settledDeliveries(hub, key, victim.id);
      expect(first!.status).toBe('succeeded');
      await sentinel.waitFor(1);

      const res =
        change === 'deactivate'
          ? await hub.request({
              method: 'PATCH',
              url: `/api/v2/webhooks/${victim.id}`,
              key,
              payload: { active: false },
            })
          : await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${victim.id}`, key });
      expect(res.statusCode, res.body).toBe(change === 'deactivate' ? 200 : 204);
      const replay = await hub.request({
        method: 'POST',
        url: `/api/v2/deliveries/${first!.id}/replay`,
        key,
      });
      expect(replay.statusCode, replay.body).toBe(202);
      await submit(formId, 'second');

      // The replayed attempt is logged (so it has run), and the new event reached the other webhook.
      const replayed = await eventually(async () => {
        const got = (
          await hub.request({ method: 'GET', url: `/api/v2/deliveries/${first!.id}`, key })
        ).json() as Delivery;
        return got.attempts.length === 2 ? got : undefined;
      });
      expect(replayed.status).toBe('dead');
      expect(replayed.attempts[1]).toMatchObject({ number: 2, manual: true, status_code: 0 });
      expect(replayed.attempts[1]!.error).toMatch(change === 'deactivate' ? /disabled/ : /deleted/);
      await sentinel.waitFor(2);
      expect(target.requests).toHaveLength(1);
    });
  }
});
