import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/net/index.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import { settledDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const SECRET = 'Bearer sk_live_tenant_a_0123456789';

async function newForm(hub: TestHub, key: string): Promise<string> {
  const res = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key,
    payload: { title: 'Secrets', fields: [{ key: 'name', type: 'text' }] },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

/** Issue #13, attack 2: custom webhook header values (often credentials) are write-only. */
describe('webhook header values read back as "***"', () => {
  let hub: TestHub;
  let key: string;
  let receiver: Receiver;

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '2000' },
      { worker: true },
    );
    key = (await hub.workspace()).key;
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await hub?.close();
  });

  it('in every answer (create, get, list, update; webhooks and integrations routes), and the secret never after create', async () => {
    const formId = await newForm(hub, key);
    const headers = { Authorization: SECRET, 'X-Team': 'growth' };
    const created = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url, headers },
    });
    expect(created.statusCode, created.body).toBe(201);
    const hook = created.json() as { id: string; secret: string; headers: Record<string, string> };
    expect(hook.headers).toEqual({ Authorization: '***', 'X-Team': '***' });
    const answers = [
      created,
      await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}`, key }),
      await hub.request({ method: 'GET', url: `/api/v2/forms/${formId}/webhooks`, key }),
      await hub.request({
        method: 'PATCH',
        url: `/api/v2/webhooks/${hook.id}`,
        key,
        payload: { events: ['response.submitted'] },
      }),
      await hub.request({ method: 'GET', url: `/api/v2/integrations/${hook.id}`, key }),
      await hub.request({ method: 'GET', url: `/api/v2/forms/${formId}/integrations`, key }),
      await hub.request({
        method: 'PATCH',
        url: `/api/v2/integrations/${hook.id}`,
        key,
        payload: { active: true },
      }),
    ];
    for (const res of answers) {
      expect(res.statusCode, res.body).toBeLessThan(300);
      expect(res.body).not.toContain('sk_live');
      expect(res.body).not.toContain('growth');
      expect(res.body).toContain('"Authorization":"***"');
    }
    for (const res of answers.slice(1)) expect(res.body).not.toContain(hook.secret);
    // Through the integrations route too.
    const viaIntegrations = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'webhook',
        config: { url: receiver.url, headers: { Authorization: SECRET } },
      },
    });
    expect(viaIntegrations.statusCode, viaIntegrations.body).toBe(201);
    expect(viaIntegrations.json()).toMatchObject({ config: { headers: { Authorization: '***' } } });
    expect(viaIntegrations.body).not.toContain('sk_live');
  });

  it('an update that sends "***" back keeps the stored value; other headers change as sent', async () => {
    const formId = await newForm(hub, key);
    const hook = (
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: receiver.url, headers: { Authorization: SECRET, 'X-Old': 'x' } },
      })
    ).json() as { id: string; headers: Record<string, string> };
    // A client edits what it read back: the masked value goes back as it came, one header added, one dropped.
    const edited = { Authorization: hook.headers.Authorization!, 'X-New': 'fresh' };
    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hook.id}`,
      key,
      payload: { headers: edited },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ headers: { Authorization: '***', 'X-New': '***' } });
    expect(Object.keys((patched.json() as { headers: object }).headers).sort()).toEqual([
      'Authorization',
      'X-New',
    ]);
    // The same through PATCH /integrations/:id, with the name in another case.
    const again = await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${hook.id}`,
      key,
      payload: { config: { headers: { authorization: '***', 'X-New': '***' } } },
    });
    expect(again.statusCode, again.body).toBe(200);

    const before = receiver.requests.length;
    const sub = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name: 'kept' } },
    });
    expect(sub.statusCode).toBe(201);
    await settledDeliveries(hub, key, hook.id);
    const sent = receiver.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.authorization).toBe(SECRET);
    expect(sent[0]!.headers['x-new']).toBe('fresh');
    expect(sent[0]!.headers['x-old']).toBeUndefined();
  });

  it('"***" for a header with no stored value is refused (422 naming the header), on create and update', async () => {
    const formId = await newForm(hub, key);
    const create = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url, headers: { 'X-Key': '***' } },
    });
    expect(fieldsOf(expectError(create, 422, 'validation_failed'))).toEqual(['headers.X-Key']);
    const hook = (
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: receiver.url },
      })
    ).json() as { id: string };
    const update = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hook.id}`,
      key,
      payload: { headers: { 'X-Key': '***' } },
    });
    expect(fieldsOf(expectError(update, 422, 'validation_failed'))).toEqual(['headers.X-Key']);
  });
});

/** Issue #13, attack 3: attempt errors named the internal address a host name resolved to. */
describe('a refused target reads "target address not allowed"', () => {
  let hub: TestHub;
  let key: string;

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_RETRY_SCHEDULE: '100ms', WEBHOOK_TIMEOUT_MS: '2000' },
      { worker: true },
    );
    key = (await hub.workspace()).key;
  });
  afterAll(async () => hub?.close());

  it('in the attempt log of a host name that resolves to an internal address, naming neither', async () => {
    // This machine's own name resolves to a loopback or private address: a name the create-time
    // check (IP literals, localhost, *.internal) lets through, and only DNS reveals.
    const name = hostname();
    const { address } = await lookup(name);
    expect(classifyAddress(address)).not.toBe('public');
    const receiver = await startReceiver();
    try {
      const port = new URL(receiver.url).port;
      const formId = await newForm(hub, key);
      const created = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: `http://${name}:${port}/hook` },
      });
      expect(created.statusCode, created.body).toBe(201);
      const hook = created.json() as { id: string };
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { name: 'x' } },
      });
      const [delivery] = await settledDeliveries(hub, key, hook.id);
      expect(delivery!.status).toBe('dead');
      for (const attempt of delivery!.attempts) {
        expect(attempt.status_code).toBe(0);
        expect(attempt.error).toContain('target address not allowed');
      }
      const answers = [
        await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}/deliveries`, key }),
        await hub.request({ method: 'GET', url: `/api/v2/deliveries/${delivery!.id}`, key }),
        await hub.request({
          method: 'GET',
          url: `/api/v2/integrations/${hook.id}/deliveries`,
          key,
        }),
      ];
      for (const res of answers) {
        expect(res.statusCode, res.body).toBe(200);
        expect(res.body).toContain('target address not allowed');
        expect(res.body).not.toContain(address);
        expect(res.body).not.toContain(name);
        expect(res.body).not.toMatch(/loopback|private|127\.0\.0\.1|::1/);
      }
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('at create time for an address literal, naming neither the address nor its class', async () => {
    const formId = await newForm(hub, key);
    for (const url of [
      'http://10.1.2.3/',
      'http://169.254.169.254/latest/meta-data',
      'http://db.internal/',
    ]) {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url },
      });
      const [detail] = expectError(res, 422, 'validation_failed');
      expect(detail).toEqual({ field: 'url', message: 'target address not allowed' });
    }
  });
});
