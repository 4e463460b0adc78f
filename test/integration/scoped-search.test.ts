import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { scopedKey } from '../support/scoped-world.ts';

describe('delivery search and stats with a form-limited key', () => {
  let hub: TestHub;
  let receiver: Receiver;
  let key: string;
  const hooks: Record<'a' | 'b', string> = { a: '', b: '' };
  const forms: Record<'a' | 'b', string> = { a: '', b: '' };
  let deliveryOfA = '';
  let wideHook = '';

  const post = async (url: string, payload: object, as = key) => {
    const res = await hub.request({ method: 'POST', url: `/api/v2${url}`, key: as, payload });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string };
  };

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { worker: true });
    receiver = await startReceiver();
    key = (await hub.workspace('Limited search')).key;
    for (const name of ['a', 'b'] as const) {
      forms[name] = (
        await post('/forms', { title: name, fields: [{ key: 'n', type: 'text' }] })
      ).id;
      hooks[name] = (await post(`/forms/${forms[name]}/webhooks`, { url: receiver.url })).id;
    }
    wideHook = (await post('/webhooks', { url: `${receiver.url}/wide` })).id;
    for (const name of ['a', 'b'] as const)
      await post(`/forms/${forms[name]}/responses`, { data: { n: name } });
    deliveryOfA = (await settledDeliveries(hub, key, hooks.a, 1))[0]!.id;
    await settledDeliveries(hub, key, hooks.b, 1);
    await settledDeliveries(hub, key, wideHook, 2);
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });

  it("sees only its forms' deliveries, and 404 for another form's or a workspace-wide hook", async () => {
    const limited = await scopedKey(hub, key, {
      scopes: ['integrations:read'],
      form_ids: [forms.a],
    });
    const get = (url: string, as = limited) =>
      hub.request({ method: 'GET', url: `/api/v2${url}`, key: as });

    const all = await get('/deliveries', key);
    expect((all.json() as { data: unknown[] }).data).toHaveLength(4);
    const mine = await get('/deliveries');
    expect(mine.statusCode).toBe(200);
    expect((mine.json() as { data: { id: string }[] }).data.map((d) => d.id)).toEqual([
      deliveryOfA,
    ]);
    expect((await get(`/deliveries?webhook_id=${hooks.a}`)).statusCode).toBe(200);
    expect((await get(`/deliveries?webhook_id=${hooks.b}`)).statusCode).toBe(404);
    expect((await get(`/deliveries?webhook_id=${wideHook}`)).statusCode).toBe(404);
    expect((await get(`/deliveries?form_id=${forms.b}`)).statusCode).toBe(404);
    expect((await get(`/webhooks/${hooks.a}/stats`)).statusCode).toBe(200);
    expect((await get(`/webhooks/${hooks.b}/stats`)).statusCode).toBe(404);

    const unscoped = await scopedKey(hub, key, { scopes: ['forms:read'] });
    const refused = await get('/deliveries', unscoped);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      error: { message: expect.stringContaining('integrations:read') },
    });
  });
});
