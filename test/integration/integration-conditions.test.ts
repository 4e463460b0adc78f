import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// Conditions (DESIGN.md section 4a): an event whose response does not match an integration's
// condition makes no delivery. "Not delivered" is shown by a later, matching event arriving
// alone: deliveries of one integration are made in event order by the relay, so a skipped
// event would have arrived before it.

const ENV = { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '1000' };
const CONDITION = { 'data.department': { $in: ['IT', 'HR'] }, 'data.hours': { $gte: 40 } };

describe('integration conditions', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true });
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Timesheets',
        fields: [
          { key: 'name', type: 'text' },
          { key: 'department', type: 'text' },
          { key: 'hours', type: 'number' },
        ],
      },
    });
    formId = form.json().id;
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await hub.close();
  });

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const submit = async (data: Record<string, unknown>, metadata?: Record<string, unknown>) => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data, ...(metadata ? { metadata } : {}) },
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const names = (r: Receiver) =>
    r.requests.map((q) => {
      const body = JSON.parse(q.body) as { response?: { data: { name: string } }; name?: string };
      return body.response?.data.name ?? body.name;
    });

  it('a webhook receives only matching responses; PATCH null clears the condition', async () => {
    const target = await receiver();
    const created = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: target.url, condition: CONDITION },
    });
    expect(created.statusCode, created.body).toBe(201);
    const hook = created.json() as { id: string; condition: unknown };
    expect(hook.condition).toEqual(CONDITION);
    await submit({ name: 'short', department: 'IT', hours: 10 });
    await submit({ name: 'sales', department: 'Sales', hours: 45 });
    await submit({ name: 'nohours', department: 'HR' });
    await submit({ name: 'match', department: 'HR', hours: 40 });
    await target.waitFor(1);
    expect(names(target)).toEqual(['match']);
    // The relay takes events in order: the match's delivery row exists, the others' never will.
    const rows = await hub.request({
      method: 'GET',
      url: `/api/v2/webhooks/${hook.id}/deliveries`,
      key,
    });
    expect(rows.json().data).toHaveLength(1);

    const got = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}`, key });
    expect(got.json().condition).toEqual(CONDITION);
    const cleared = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hook.id}`,
      key,
      payload: { condition: null },
    });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json().condition).toBeNull();
    await submit({ name: 'any1', department: 'Sales', hours: 1 });
    await submit({ name: 'any2' });
    await target.waitFor(3);
    expect(names(target)).toEqual(['match', 'any1', 'any2']);

    const metrics = (await hub.request({ method: 'GET', url: '/metrics' })).body;
    const filtered = /formhub_deliveries_filtered_total\{reason="no_match"\} (\d+)/.exec(metrics);
    expect(Number(filtered?.[1])).toBeGreaterThanOrEqual(3);
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${hook.id}`, key });
  });

  it('a Zapier hook and a connector integration honour their conditions', async () => {
    const zap = await receiver();
    const other = await receiver();
    const sub = await hub.request({
      method: 'POST',
      url: '/api/v2/zapier/hooks',
      key,
      payload: { target_url: zap.url, form_id: formId, condition: { 'data.hours': { $lt: 5 } } },
    });
    expect(sub.statusCode, sub.body).toBe(201);
    expect(sub.json()).toEqual({ id: expect.any(String) }); // DESIGN.md section 4: `{"id"}`
    const stored = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${sub.json().id}`,
      key,
    });
    expect(stored.json().condition).toEqual({ 'data.hours': { $lt: 5 } });
    const integration = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: {
        connector: 'webhook',
        config: { url: other.url },
        condition: {
          $not: { 'data.name': { $contains: 'x' } },
          'metadata.channel': { $ne: 'api' },
        },
      },
    });
    expect(integration.statusCode, integration.body).toBe(201);
    expect(integration.json().condition).toEqual({
      $not: { 'data.name': { $contains: 'x' } },
      'metadata.channel': { $ne: 'api' },
    });
    await submit({ name: 'xlong', hours: 50 });
    await submit({ name: 'xshort', hours: 1 });
    await submit({ name: 'api', hours: 9 }, { channel: 'api' });
    await submit({ name: 'plain', hours: 9 }, { channel: 'web' });
    await zap.waitFor(1);
    await other.waitFor(1);
    expect(names(zap)).toEqual(['xshort']);
    expect(names(other)).toEqual(['plain']);
    await hub.request({ method: 'DELETE', url: `/api/v2/zapier/hooks/${sub.json().id}`, key });
    const id = integration.json().id as string;
    await hub.request({ method: 'DELETE', url: `/api/v2/integrations/${id}`, key });
  });

  it.each([
    ['an unknown field', { 'data.nope': 1 }, 'condition.data.nope'],
    ['a bad operator', { 'data.hours': { $near: 1 } }, 'condition.data.hours.$near'],
    ['a value of the wrong type', { 'data.hours': { $gte: 'many' } }, 'condition.data.hours.$gte'],
  ])('422 for %s, naming the part', async (_what, condition, field) => {
    const target = 'http://127.0.0.1:9/hook';
    const attempts = [
      { url: `/api/v2/forms/${formId}/webhooks`, payload: { url: target, condition } },
      {
        url: `/api/v2/forms/${formId}/integrations`,
        payload: { connector: 'webhook', config: { url: target }, condition },
      },
      { url: '/api/v2/zapier/hooks', payload: { target_url: target, form_id: formId, condition } },
    ];
    for (const { url, payload } of attempts) {
      const res = await hub.request({ method: 'POST', url, key, payload });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().error.details).toEqual([{ field, message: expect.any(String) }]);
    }
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: target },
    });
    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hook.json().id}`,
      key,
      payload: { condition },
    });
    expect(patched.statusCode, patched.body).toBe(422);
    expect(patched.json().error.details[0].field).toBe(field);
    await hub.request({ method: 'DELETE', url: `/api/v2/webhooks/${hook.json().id}`, key });
  });
});
