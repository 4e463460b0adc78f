import { Webhook } from 'standardwebhooks';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxRelay } from '../../src/delivery/index.ts';
import { expectError } from '../support/api.ts';
import { listDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.ts';
import { settledDeliveries } from '../support/deliveries.ts';

// Workspace-wide integrations (DESIGN.md section 4a): `POST /webhooks` and `POST /integrations`
// without a `form_id` fire for every form of the workspace, forms created later included.
// "Not delivered" is shown as in integration-conditions.test.ts: the relay takes events in
// order, so once a later event's delivery exists, an earlier event that made none never will.

const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '100ms',
  WEBHOOK_TIMEOUT_MS: '1000',
};
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface Hook {
  id: string;
  form_id: string | null;
  url: string;
  events: string[];
  active: boolean;
  condition: Record<string, unknown> | null;
  secret?: string;
}

interface Integration {
  id: string;
  form_id: string | null;
  connector: string;
  config: Record<string, unknown>;
  events: string[];
  secret?: string;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** A hub's helpers for one workspace key. */
function client(hub: TestHub) {
  const forms = async (key: string, title: string, fields?: Record<string, unknown>[]) => {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title, fields: fields ?? [{ key: 'name', type: 'text' }] },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  };
  const submit = async (formId: string, data: Record<string, unknown>) => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  };
  const create = async <T>(key: string, url: string, payload: Record<string, unknown>) => {
    const res = await hub.request({ method: 'POST', url, key, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as T;
  };
  const list = async <T>(key: string, url: string) => {
    const res = await hub.request({ method: 'GET', url, key });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Page<T>;
  };
  return { forms, submit, create, list };
}

const bodyOf = (request: ReceivedRequest) =>
  JSON.parse(request.body) as {
    event: string;
    form: { id: string; title: string };
    response: { id: string; data: Record<string, unknown> };
  };

describe('workspace-wide integrations', () => {
  let hub: TestHub;
  let api: ReturnType<typeof client>;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true });
    api = client(hub);
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await hub.close();
  });

  it('a webhook made before any form receives, signed, the responses of a form made later', async () => {
    const { key } = await hub.workspace('Early bird');
    const target = await receiver();
    const hook = await api.create<Hook>(key, '/api/v2/webhooks', { url: target.url });
    expect(hook).toMatchObject({ form_id: null, url: target.url, events: ['response.submitted'] });
    expect(hook.secret).toMatch(/^whsec_/);

    const formId = await api.forms(key, 'Born later');
    const responseId = await api.submit(formId, { name: 'Ada' });
    const [request] = await target.waitFor(1);
    const body = bodyOf(request!);
    expect(body).toMatchObject({
      event: 'response.submitted',
      form: { id: formId, title: 'Born later' },
      response: { id: responseId, data: { name: 'Ada' } },
    });
    const headers = request!.headers as Record<string, string>;
    expect(new Webhook(hook.secret!).verify(request!.body, headers)).toMatchObject({
      event: 'response.submitted',
    });

    const got = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}`, key });
    expect(got.json()).toMatchObject({ id: hook.id, form_id: null });
    expect(got.json().secret).toBeUndefined();
  });

  it("never fires for another workspace's forms", async () => {
    const a = await hub.workspace('A');
    const b = await hub.workspace('B');
    const targetA = await receiver();
    const targetB = await receiver();
    const hookA = await api.create<Hook>(a.key, '/api/v2/webhooks', { url: targetA.url });
    await api.create<Hook>(b.key, '/api/v2/webhooks', { url: targetB.url });
    const formB = await api.forms(b.key, 'B form');
    const formA = await api.forms(a.key, 'A form');
    await api.submit(formB, { name: 'from B' });
    await api.submit(formA, { name: 'from A' });
    await targetA.waitFor(1);
    await targetB.waitFor(1);
    expect(targetA.requests.map((r) => bodyOf(r).form.id)).toEqual([formA]);
    expect(targetB.requests.map((r) => bodyOf(r).form.id)).toEqual([formB]);
    // B's event came first: had it matched A's hook, its delivery would exist by now.
    expect(await listDeliveries(hub, a.key, hookA.id)).toHaveLength(1);
  });

  it('lists the whole workspace, newest first and paged; ?form_id= narrows to that form own', async () => {
    const { key } = await hub.workspace('Lister');
    const f1 = await api.forms(key, 'One');
    const f2 = await api.forms(key, 'Two');
    const url = 'http://127.0.0.1:9/hook';
    const slack = { channel: '#forms', text: 'New: {{data.name}}', token: 'xoxb-test' };
    const wide = await api.create<Hook>(key, '/api/v2/webhooks', { url });
    const own1 = await api.create<Hook>(key, `/api/v2/forms/${f1}/webhooks`, { url });
    const own2 = await api.create<Hook>(key, '/api/v2/webhooks', { url, form_id: f2 });
    expect(own2.form_id).toBe(f2);
    const wideSlack = await api.create<Integration>(key, '/api/v2/integrations', {
      connector: 'slack',
      config: slack,
    });
    expect(wideSlack).toMatchObject({ form_id: null, connector: 'slack' });
    expect(wideSlack.config.token).toBeUndefined();
    const slack1 = await api.create<Integration>(key, '/api/v2/integrations', {
      connector: 'slack',
      config: slack,
      form_id: f1.toUpperCase(),
    });
    expect(slack1.form_id).toBe(f1);

    const ids = (page: Page<{ id: string }>) => page.data.map((i) => i.id);
    const hooks = await api.list<Hook>(key, '/api/v2/webhooks');
    expect(ids(hooks)).toEqual([own2.id, own1.id, wide.id]);
    expect(hooks.data.map((h) => h.form_id)).toEqual([f2, f1, null]);
    expect(hooks.next_cursor).toBeNull();
    expect(ids(await api.list(key, `/api/v2/webhooks?form_id=${f1}`))).toEqual([own1.id]);
    expect(ids(await api.list(key, `/api/v2/webhooks?form_id=${f1.toUpperCase()}`))).toEqual([
      own1.id,
    ]);
    expect(ids(await api.list(key, `/api/v2/forms/${f1}/webhooks`))).toEqual([own1.id]);

    const all = [slack1.id, wideSlack.id, own2.id, own1.id, wide.id];
    expect(ids(await api.list(key, '/api/v2/integrations'))).toEqual(all);
    const narrowed = [slack1.id, own1.id];
    expect(ids(await api.list(key, `/api/v2/integrations?form_id=${f1}`))).toEqual(narrowed);
    expect(ids(await api.list(key, `/api/v2/forms/${f1}/integrations`))).toEqual(narrowed);

    const seen: string[] = [];
    let next = '/api/v2/integrations?limit=2';
    for (;;) {
      const page = await api.list<Integration>(key, next);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page));
      if (page.next_cursor === null) break;
      next = `/api/v2/integrations?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`;
    }
    expect(seen).toEqual(all);

    // A deleted form's own integrations go with it; the workspace-wide ones stay.
    await hub.request({ method: 'DELETE', url: `/api/v2/forms/${f2}`, key });
    expect(ids(await api.list(key, '/api/v2/webhooks'))).toEqual([own1.id, wide.id]);
  });

  it("404 for another workspace's form_id and for its integrations, whatever the route", async () => {
    const a = await hub.workspace('Mine');
    const b = await hub.workspace('Theirs');
    const formB = await api.forms(b.key, 'Theirs');
    const url = 'http://127.0.0.1:9/hook';
    const hookB = await api.create<Hook>(b.key, '/api/v2/webhooks', { url });
    const slackB = await api.create<Integration>(b.key, '/api/v2/integrations', {
      connector: 'slack',
      config: { channel: '#b', text: 'b', token: 'xoxb-b' },
    });
    for (const formId of [formB, formB.toUpperCase(), NIL_UUID, 'not-a-form']) {
      const attempts = [
        { method: 'POST' as const, url: '/api/v2/webhooks', payload: { url, form_id: formId } },
        {
          method: 'POST' as const,
          url: '/api/v2/integrations',
          payload: { connector: 'webhook', config: { url }, form_id: formId },
        },
        { method: 'GET' as const, url: `/api/v2/webhooks?form_id=${formId}` },
        { method: 'GET' as const, url: `/api/v2/integrations?form_id=${formId}` },
      ];
      for (const attempt of attempts)
        expectError(await hub.request({ ...attempt, key: a.key }), 404, 'not_found');
    }
    for (const [base, id] of [
      ['webhooks', hookB.id],
      ['integrations', hookB.id],
      ['integrations', slackB.id],
    ] as const) {
      const attempts = [
        { method: 'GET' as const, url: `/api/v2/${base}/${id}` },
        { method: 'PATCH' as const, url: `/api/v2/${base}/${id}`, payload: { active: false } },
        { method: 'GET' as const, url: `/api/v2/${base}/${id}/deliveries` },
        { method: 'POST' as const, url: `/api/v2/${base}/${id}/test` },
        { method: 'DELETE' as const, url: `/api/v2/${base}/${id}` },
      ];
      for (const attempt of attempts)
        expectError(await hub.request({ ...attempt, key: a.key }), 404, 'not_found');
    }
    expect((await api.list<Hook>(a.key, '/api/v2/webhooks')).data).toEqual([]);
    expect((await api.list<Integration>(a.key, '/api/v2/integrations')).data).toEqual([]);
    // Untouched by all that.
    const still = await hub.request({
      method: 'GET',
      url: `/api/v2/webhooks/${hookB.id}`,
      key: b.key,
    });
    expect(still.json()).toMatchObject({ active: true, form_id: null });
    // An explicit null is workspace-wide too.
    const wide = await api.create<Hook>(a.key, '/api/v2/webhooks', { url, form_id: null });
    expect(wide.form_id).toBeNull();
  });

  it('PATCH and DELETE a workspace-wide webhook; a test ping names no form', async () => {
    const { key } = await hub.workspace('Changer');
    const formId = await api.forms(key, 'Changing');
    const first = await receiver();
    const second = await receiver();
    const hook = await api.create<Hook>(key, '/api/v2/webhooks', { url: first.url });

    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hook.id}`,
      key,
      payload: {
        url: second.url,
        events: ['response.submitted', 'response.updated'],
        condition: { 'data.name': { $ne: 'skip' } },
      },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      id: hook.id,
      form_id: null,
      url: second.url,
      events: ['response.submitted', 'response.updated'],
      condition: { 'data.name': { $ne: 'skip' } },
    });
    const bad = await hub.request({
      method: 'PATCH',
      url: `/api/v2/webhooks/${hook.id}`,
      key,
      payload: { condition: { 'data.name': { $near: 1 } } },
    });
    expect(expectError(bad, 422, 'validation_failed')).toEqual([
      { field: 'condition.data.name.$near', message: expect.any(String) },
    ]);

    await api.submit(formId, { name: 'skip' });
    await api.submit(formId, { name: 'after patch' });
    await second.waitFor(1);
    expect(second.requests.map((r) => bodyOf(r).response.data.name)).toEqual(['after patch']);
    expect(first.requests).toHaveLength(0);

    const ping = await hub.request({
      method: 'POST',
      url: `/api/v2/webhooks/${hook.id}/test`,
      key,
    });
    expect(ping.statusCode, ping.body).toBe(202);
    await second.waitFor(2);
    expect(bodyOf(second.requests[1]!)).toMatchObject({
      event: 'ping',
      form: { id: NIL_UUID, title: '' },
    });

    const removed = await hub.request({
      method: 'DELETE',
      url: `/api/v2/webhooks/${hook.id}`,
      key,
    });
    expect(removed.statusCode).toBe(204);
    const gone = await hub.request({ method: 'GET', url: `/api/v2/webhooks/${hook.id}`, key });
    expectError(gone, 404, 'not_found');
    expect((await api.list<Hook>(key, '/api/v2/webhooks')).data).toEqual([]);
    // The next event goes to a new hook only.
    const third = await receiver();
    await api.create<Hook>(key, '/api/v2/webhooks', { url: third.url });
    await api.submit(formId, { name: 'after delete' });
    await third.waitFor(1);
    expect(second.requests).toHaveLength(2);
  });

  it("checks a workspace-wide condition against each form's fields", async () => {
    const { key } = await hub.workspace('Conditional');
    const target = await receiver();
    const condition = { 'data.department': { $in: ['IT', 'HR'] } };
    const hook = await api.create<Hook>(key, '/api/v2/webhooks', { url: target.url, condition });
    expect(hook.condition).toEqual(condition);
    const withDept = await api.forms(key, 'With department', [
      { key: 'name', type: 'text' },
      { key: 'department', type: 'text' },
    ]);
    const without = await api.forms(key, 'Without');
    // `department` here is a number: the condition cannot compare it, so it matches nothing.
    const numeric = await api.forms(key, 'Numeric department', [
      { key: 'name', type: 'text' },
      { key: 'department', type: 'integer' },
    ]);
    await api.submit(withDept, { name: 'sales', department: 'Sales' });
    await api.submit(without, { name: 'no department' });
    await api.submit(numeric, { name: 'numeric', department: 7 });
    await api.submit(withDept, { name: 'match', department: 'IT' });
    await target.waitFor(1);
    expect(target.requests.map((r) => bodyOf(r).response.data.name)).toEqual(['match']);
    expect(await listDeliveries(hub, key, hook.id)).toHaveLength(1);

    for (const [bad, field] of [
      [{ 'data.department': { $near: 1 } }, 'condition.data.department.$near'],
      [{ department: 'IT' }, 'condition.department'],
    ] as const) {
      for (const [url, payload] of [
        ['/api/v2/webhooks', { url: target.url, condition: bad }],
        [
          '/api/v2/integrations',
          { connector: 'webhook', config: { url: target.url }, condition: bad },
        ],
      ] as const) {
        const res = await hub.request({ method: 'POST', url, key, payload });
        expect(expectError(res, 422, 'validation_failed')).toEqual([
          { field, message: expect.any(String) },
        ]);
      }
    }
  });

  it('POST /integrations without form_id makes a workspace-wide, signed webhook integration', async () => {
    const { key } = await hub.workspace('Connector user');
    const target = await receiver();
    const created = await api.create<Integration>(key, '/api/v2/integrations', {
      connector: 'webhook',
      config: { url: target.url, events: ['response.submitted', 'response.updated'] },
    });
    expect(created).toMatchObject({
      form_id: null,
      connector: 'webhook',
      events: ['response.submitted', 'response.updated'],
    });
    expect(created.secret).toMatch(/^whsec_/);
    const got = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${created.id}`,
      key,
    });
    expect(got.json()).toMatchObject({ id: created.id, form_id: null });

    const formId = await api.forms(key, 'Connected later');
    await api.submit(formId, { name: 'Grace' });
    const [request] = await target.waitFor(1);
    expect(bodyOf(request!)).toMatchObject({ event: 'response.submitted', form: { id: formId } });
    const headers = request!.headers as Record<string, string>;
    expect(new Webhook(created.secret!).verify(request!.body, headers)).toBeTruthy();
    const deliveries = await listDeliveries(hub, key, created.id, 'integrations');
    expect(deliveries).toHaveLength(1);
  });

  it('takes a delivery policy like the per-form routes, and retries on its own schedule', async () => {
    const { key } = await hub.workspace('Policy');
    const formId = await api.forms(key, 'Flaky');
    // Fails twice, then answers 200: the hook's own two-step schedule is enough, the
    // hub's one-step default (100ms) would leave it dead.
    const flaky = await startReceiver((n) => ({ status: n <= 2 ? 503 : 200 }));
    receivers.push(flaky);
    const hook = await api.create<Hook & { retry: unknown; rate_limit: unknown }>(
      key,
      '/api/v2/webhooks',
      { url: flaky.url, retry: { schedule: ['50ms', '50ms'] }, rate_limit: { per_second: 50 } },
    );
    expect(hook).toMatchObject({
      form_id: null,
      retry: { schedule: ['50ms', '50ms'] },
      rate_limit: { per_second: 50 },
    });
    await api.submit(formId, { name: 'third time lucky' });
    const [delivery] = await settledDeliveries(hub, key, hook.id, 1);
    expect(delivery!.status).toBe('succeeded');
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([503, 503, 200]);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await hub.request({ method: 'GET', url: '/api/v2/openapi.json' })).json() as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    for (const path of ['/api/v2/webhooks', '/api/v2/integrations']) {
      expect(Object.keys(doc.paths[path] ?? {}).sort()).toEqual(['get', 'post']);
    }
  });
});

describe('the relay and workspace-wide integrations, one batch at a time', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startHub(ENV); // no worker: this test runs the relay itself
  });
  afterAll(async () => hub.close());

  it("makes one delivery per form's event, only in its own workspace, none for a deleted form", async () => {
    const api = client(hub);
    const a = await hub.workspace('Batch A');
    const b = await hub.workspace('Batch B');
    const url = 'http://127.0.0.1:9/hook';
    const wideA = await api.create<Hook>(a.key, '/api/v2/webhooks', { url });
    const wideB = await api.create<Hook>(b.key, '/api/v2/webhooks', { url });
    const [a1, a2, gone] = [
      await api.forms(a.key, 'A1'),
      await api.forms(a.key, 'A2'),
      await api.forms(a.key, 'Deleted'),
    ];
    const b1 = await api.forms(b.key, 'B1');
    const ownOfGone = await api.create<Hook>(a.key, `/api/v2/forms/${gone}/webhooks`, { url });
    const responses = new Map<string, string>();
    for (const [formId, name] of [
      [a1, 'a1'],
      [gone, 'gone'],
      [b1, 'b1'],
      [a2, 'a2'],
    ] as const)
      responses.set(await api.submit(formId, { name }), name);
    // The deleted form's event is in the outbox already; deleted, its form fires nothing.
    const deleted = await hub.request({
      method: 'DELETE',
      url: `/api/v2/forms/${gone}`,
      key: a.key,
    });
    expect(deleted.statusCode).toBe(204);

    const relay = new OutboxRelay(hub.db, hub.services.queue, pino({ level: 'silent' }));
    while ((await relay.tick()) > 0);
    const delivered = async (integrationId: string) => {
      const { rows } = await hub.db.query<{ response: string }>(
        `SELECT p.payload -> 'response' ->> 'id' AS response FROM deliveries d
           JOIN delivery_payloads p ON p.delivery_id = d.id WHERE d.integration_id = $1`,
        [integrationId],
      );
      return rows.map((r) => responses.get(r.response) ?? r.response).sort();
    };
    expect(await delivered(wideA.id)).toEqual(['a1', 'a2']);
    expect(await delivered(wideB.id)).toEqual(['b1']);
    expect(await delivered(ownOfGone.id)).toEqual([]);
  });
});

describe('workspace-wide webhooks on the embedded database', () => {
  let hub: TestHub;
  let receiver: Receiver;
  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true, embedded: true });
    receiver = await startReceiver();
  }, 120_000);
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  it('fires for a form made after it, and lists it with form_id null', async () => {
    expect(hub.db.kind).toBe('pglite');
    const api = client(hub);
    const { key } = await hub.workspace();
    const hook = await api.create<Hook>(key, '/api/v2/webhooks', {
      url: receiver.url,
      condition: { 'data.name': { $ne: 'skip' } },
    });
    const formId = await api.forms(key, 'Embedded later');
    await api.submit(formId, { name: 'skip' });
    await api.submit(formId, { name: 'Linus' });
    const [request] = await receiver.waitFor(1);
    expect(bodyOf(request!)).toMatchObject({
      form: { id: formId },
      response: { data: { name: 'Linus' } },
    });
    expect(
      new Webhook(hook.secret!).verify(request!.body, request!.headers as Record<string, string>),
    ).toBeTruthy();
    const listed = await api.list<Hook>(key, '/api/v2/webhooks');
    expect(listed.data).toMatchObject([{ id: hook.id, form_id: null }]);
    expect((await api.list<Hook>(key, `/api/v2/webhooks?form_id=${formId}`)).data).toEqual([]);
  });
});
