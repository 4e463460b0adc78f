import { Webhook } from 'standardwebhooks';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver } from '../support/receiver.ts';

const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,300ms',
  WEBHOOK_TIMEOUT_MS: '1000',
};

describe('webhook delivery', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true });
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Hooked',
        fields: [
          { key: 'name', type: 'text' },
          { key: 'age', type: 'integer' },
        ],
      },
    });
    formId = form.json().id;
  });
  afterAll(async () => hub.close());

  const submit = (data: Record<string, unknown>) =>
    hub.request({ method: 'POST', url: `/api/v2/forms/${formId}/responses`, payload: { data } });

  it('delivers a signed default payload that standardwebhooks verifies', async () => {
    const receiver = await startReceiver();
    const created = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url },
    });
    expect(created.statusCode).toBe(201);
    const hook = created.json() as { id: string; secret: string };
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const sub = await submit({ name: 'Ada', age: 36 });
    const [request] = await receiver.waitFor(1);
    const body = JSON.parse(request!.body);
    expect(body).toMatchObject({
      event: 'response.submitted',
      form: { id: formId, title: 'Hooked' },
    });
    expect(body.response).toMatchObject({ id: sub.json().id, data: { name: 'Ada', age: 36 } });
    const headers = request!.headers as Record<string, string>;
    expect(headers['x-webhook-id']).toBe(body.delivery_id);
    const key64 = Buffer.from(hook.secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key64)
      .update(`${headers['x-webhook-id']}.${headers['x-webhook-timestamp']}.${request!.body}`)
      .digest('hex');
    expect(headers['x-webhook-signature']).toBe(`sha256=${expected}`);
    expect(new Webhook(hook.secret).verify(request!.body, headers)).toMatchObject({
      event: 'response.submitted',
    });

    const deliveries = await eventually(async () => {
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/webhooks/${hook.id}/deliveries`,
        key,
      });
      const data = res.json().data as { status: string; attempts: unknown[] }[];
      return data[0]?.status === 'succeeded' ? data : undefined;
    });
    expect(deliveries[0]).toMatchObject({
      id: body.delivery_id,
      event: 'response.submitted',
      attempts: [{ number: 1, status_code: 200, manual: false }],
    });
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${hook.id}`, key });
    await receiver.close();
  });

  it('retries a failing receiver on the schedule, then succeeds with the same delivery id', async () => {
    const receiver = await startReceiver((n) => ({ status: n <= 2 ? 500 : 200 }));
    const hook = (
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: receiver.url },
      })
    ).json();
    await submit({ name: 'Retry' });
    const requests = await receiver.waitFor(3);
    expect(new Set(requests.map((r) => r.headers['x-webhook-id'])).size).toBe(1);
    const delivery = await eventually(async () => {
      const data = (
        await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}/deliveries`, key })
      ).json().data;
      return data[0]?.status === 'succeeded' ? data[0] : undefined;
    });
    expect(delivery.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([
      500, 500, 200,
    ]);
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${hook.id}`, key });
    await receiver.close();
  });

  it('goes dead when the schedule is spent, and a replay delivers it manually', async () => {
    let fail = true;
    const receiver = await startReceiver(() => ({ status: fail ? 503 : 204 }));
    const hook = (
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: receiver.url },
      })
    ).json();
    await submit({ name: 'Dead' });
    const dead = await eventually(async () => {
      const data = (
        await hub.request({
          method: 'GET',
          url: `/api/v2/webhooks/${hook.id}/deliveries?status=dead`,
          key,
        })
      ).json().data;
      return data[0];
    });
    expect(dead.attempts).toHaveLength(4);
    fail = false;
    const replay = await hub.request({
      method: 'POST',
      url: `/api/v2/deliveries/${dead.id}/replay`,
      key,
    });
    expect(replay.statusCode).toBe(202);
    const done = await eventually(async () => {
      const d = (
        await hub.request({ method: 'GET', url: `/api/v2/deliveries/${dead.id}`, key })
      ).json();
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(done.attempts[4]).toMatchObject({ number: 5, status_code: 204, manual: true });
    await receiver.close();
  });
});
