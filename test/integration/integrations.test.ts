import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf, sleep } from '../support/api.ts';
import { listDeliveries, settledDeliveries, type Delivery } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

const PLUGINS_DIR = fileURLToPath(new URL('../../plugins', import.meta.url));
const TIMEOUT_MS = 800;
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
  WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
  PLUGINS_DIR,
};

interface Connector {
  id: string;
  name: string;
  version: string;
  config_schema: Record<string, unknown>;
}

interface Integration {
  id: string;
  form_id: string;
  connector: string;
  config: Record<string, unknown>;
  events: string[];
  active: boolean;
  disabled_reason: string | null;
}

async function newForm(hub: TestHub, key: string, title = 'Connected'): Promise<string> {
  const res = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key,
    payload: {
      title,
      fields: [
        { key: 'name', type: 'text' },
        { key: 'age', type: 'integer' },
      ],
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

async function submit(
  hub: TestHub,
  formId: string,
  data: Record<string, unknown>,
): Promise<string> {
  const res = await hub.request({
    method: 'POST',
    url: `/api/v2/forms/${formId}/responses`,
    payload: { data },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

async function connectors(hub: TestHub, key: string): Promise<Connector[]> {
  const res = await hub.request({ method: 'GET', url: '/api/v2/connectors', key });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: Connector[] }).data;
}

describe('connectors and integrations', () => {
  let hub: TestHub;
  let key: string;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true });
    key = (await hub.workspace()).key;
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver(() => ({ status: 200, body: 'echoed' }));
    receivers.push(r);
    return r;
  }

  const create = (formId: string, payload: Record<string, unknown>) =>
    hub.request({ method: 'POST', url: `/api/v2/forms/${formId}/integrations`, key, payload });

  it('GET /connectors lists webhook, zapier and echo with their config schemas', async () => {
    const list = await connectors(hub, key);
    const ids = list.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['webhook', 'zapier', 'echo']));
    for (const c of list) {
      expect(c).toMatchObject({
        id: expect.any(String),
        name: expect.any(String),
        version: expect.any(String),
      });
      expect(c.config_schema).toEqual(expect.objectContaining({ type: 'object' }));
    }
    const echo = list.find((c) => c.id === 'echo')!;
    expect(echo.config_schema).toMatchObject({
      required: ['url'],
      properties: { url: { type: 'string' }, token: { writeOnly: true } },
    });
    expect((await hub.request({ method: 'GET', url: '/api/v2/connectors' })).statusCode).toBe(401);
  });

  it('creates an echo integration whose token is sealed, never shown, and sent to the target', async () => {
    const r = await receiver();
    const formId = await newForm(hub, key, 'Echoed');
    const created = await create(formId, {
      connector: 'echo',
      config: { url: r.url, token: 's3cret' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const integration = created.json() as Integration;
    expect(integration).toMatchObject({
      form_id: formId,
      connector: 'echo',
      config: { url: r.url },
      active: true,
    });
    expect(integration.config).not.toHaveProperty('token');
    expect(created.body).not.toContain('s3cret');

    const one = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${integration.id}`,
      key,
    });
    const list = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
    });
    expect(one.statusCode).toBe(200);
    expect(list.statusCode).toBe(200);
    expect((one.json() as Integration).config).toEqual({ url: r.url });
    expect((list.json() as { data: Integration[] }).data.map((i) => i.id)).toEqual([
      integration.id,
    ]);
    for (const body of [one.body, list.body]) expect(body).not.toContain('s3cret');

    const { rows } = await hub.db.query<{ config_sealed: string }>(
      'SELECT config_sealed FROM integrations WHERE id = $1',
      [integration.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.config_sealed).not.toContain('s3cret');
    expect(rows[0]!.config_sealed).not.toContain(r.url);

    const responseId = await submit(hub, formId, { name: 'Ada', age: 36 });
    const [request] = await r.waitFor(1);
    expect(request!.headers.authorization).toBe('Bearer s3cret');
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery!.status).toBe('succeeded');
    expect(request!.headers['idempotency-key']).toBe(delivery!.id);
    expect(JSON.parse(request!.body)).toEqual({
      summary: 'New response to Echoed',
      response_id: responseId,
      answers: { name: 'Ada', age: 36 },
    });
  });

  it('GET /integrations/:id/deliveries has the same shape as a webhook’s', async () => {
    const r = await receiver();
    const formId = await newForm(hub, key);
    const echo = (
      await create(formId, { connector: 'echo', config: { url: r.url } })
    ).json() as Integration;
    const hookRes = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: r.url },
    });
    const hook = hookRes.json() as { id: string };
    await submit(hub, formId, { name: 'Shape' });
    const [viaIntegration] = await settledDeliveries(hub, key, echo.id, 1, 'integrations');
    const [viaWebhook] = await settledDeliveries(hub, key, hook.id, 1, 'webhooks');
    const shape = (d: Delivery) => ({
      keys: Object.keys(d).sort(),
      attemptKeys: d.attempts.map((a) => Object.keys(a).sort()),
    });
    expect(shape(viaIntegration!)).toEqual(shape(viaWebhook!));
    expect(Object.keys(viaIntegration!)).toEqual(
      expect.arrayContaining([
        'id',
        'webhook_id',
        'event',
        'status',
        'created_at',
        'next_attempt_at',
        'attempts',
      ]),
    );
    expect(viaIntegration).toMatchObject({
      event: 'response.submitted',
      status: 'succeeded',
      next_attempt_at: null,
      attempts: [
        { number: 1, status_code: 200, error: null, response_excerpt: 'echoed', manual: false },
      ],
    });
    const page = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${echo.id}/deliveries?status=succeeded`,
      key,
    });
    expect(page.json()).toMatchObject({ data: [{ id: viaIntegration!.id }], next_cursor: null });
  });

  it('validates config against the connector schema (422 naming the field)', async () => {
    const formId = await newForm(hub, key);
    const missing = await create(formId, { connector: 'echo', config: { token: 'x' } });
    expect(fieldsOf(expectError(missing, 422, 'validation_failed'))).toContain('config.url');
    const wrongType = await create(formId, { connector: 'echo', config: { url: 42 } });
    expect(fieldsOf(expectError(wrongType, 422, 'validation_failed'))).toContain('config.url');
    const unknown = await create(formId, { connector: 'no-such-connector', config: {} });
    const details = expectError(unknown, 422, 'validation_failed');
    expect(fieldsOf(details)).toContain('connector');
    const list = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
    });
    expect(list.json().data).toEqual([]);
  });

  it('PATCH merges config key by key (the secret stays), DELETE -> 204 then 404', async () => {
    const r = await receiver();
    const formId = await newForm(hub, key, 'Patched');
    const integration = (
      await create(formId, { connector: 'echo', config: { url: r.url, token: 's3cret' } })
    ).json() as Integration;
    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${integration.id}`,
      key,
      payload: { config: { summary: 'Hello {{data.name}}' } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((patched.json() as Integration).config).toEqual({
      url: r.url,
      summary: 'Hello {{data.name}}',
    });
    expect(patched.body).not.toContain('s3cret');
    const bad = await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${integration.id}`,
      key,
      payload: { config: { url: 7 } },
    });
    expect(fieldsOf(expectError(bad, 422, 'validation_failed'))).toContain('config.url');

    await submit(hub, formId, { name: 'Grace' });
    const [request] = await r.waitFor(1);
    expect(JSON.parse(request!.body).summary).toBe('Hello Grace');
    expect(request!.headers.authorization).toBe('Bearer s3cret');

    const del = await hub.request({
      method: 'DELETE',
      url: `/api/v2/integrations/${integration.id}`,
      key,
    });
    expect(del.statusCode).toBe(204);
    expectError(
      await hub.request({ method: 'GET', url: `/api/v2/integrations/${integration.id}`, key }),
      404,
      'not_found',
    );
    expectError(
      await hub.request({ method: 'DELETE', url: `/api/v2/integrations/${integration.id}`, key }),
      404,
      'not_found',
    );
    expectError(
      await hub.request({
        method: 'GET',
        url: `/api/v2/integrations/${integration.id}/deliveries`,
        key,
      }),
      404,
      'not_found',
    );
  });

  it('a permanent failure (a Nango connection without Nango) is dead after one attempt', async () => {
    const r = await receiver();
    const formId = await newForm(hub, key);
    const res = await create(formId, {
      connector: 'echo',
      config: { url: r.url },
      connection_id: 'conn-1',
    });
    expect(res.statusCode, res.body).toBe(201);
    const integration = res.json() as Integration & {
      connection_id: string;
      provider_config_key: string;
    };
    expect(integration).toMatchObject({ connection_id: 'conn-1', provider_config_key: 'echo' });
    await submit(hub, formId, { name: 'Nope' });
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({ status: 'dead', next_attempt_at: null });
    expect(delivery!.attempts).toHaveLength(1);
    expect(delivery!.attempts[0]).toMatchObject({ number: 1, status_code: 0, manual: false });
    expect(delivery!.attempts[0]!.error).toMatch(/NANGO/);
    expect(r.requests).toHaveLength(0);
  });

  it("another workspace's integration answers 404", async () => {
    const formId = await newForm(hub, key);
    const integration = (
      await create(formId, { connector: 'echo', config: { url: 'http://127.0.0.1:9/' } })
    ).json() as Integration;
    const other = (await hub.workspace('Other')).key;
    for (const [method, url] of [
      ['GET', `/api/v2/integrations/${integration.id}`],
      ['GET', `/api/v2/integrations/${integration.id}/deliveries`],
      ['DELETE', `/api/v2/integrations/${integration.id}`],
      ['GET', `/api/v2/forms/${formId}/integrations`],
    ] as const) {
      expectError(await hub.request({ method, url, key: other }), 404, 'not_found');
    }
  });
});

describe('FEATURE_CONNECTORS=false', () => {
  let hub: TestHub;
  let key: string;
  let receiver: Receiver;

  beforeAll(async () => {
    hub = await startHub({ ...ENV, FEATURE_CONNECTORS: 'false' }, { worker: true });
    key = (await hub.workspace()).key;
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await hub?.close();
  });

  it('answers 404 on /connectors and /integrations, while webhooks still work', async () => {
    const formId = await newForm(hub, key);
    expect((await hub.request({ method: 'GET', url: '/api/v2/connectors', key })).statusCode).toBe(
      404,
    );
    expect(
      (await hub.request({ method: 'GET', url: `/api/v2/forms/${formId}/integrations`, key }))
        .statusCode,
    ).toBe(404);
    const post = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'echo', config: { url: receiver.url } },
    });
    expect(post.statusCode).toBe(404);

    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    const hookId = (hook.json() as { id: string }).id;
    expect(
      (await hub.request({ method: 'GET', url: `/api/v2/integrations/${hookId}`, key })).statusCode,
    ).toBe(404);
    await submit(hub, formId, { name: 'Still hooked' });
    const [request] = await receiver.waitFor(1);
    expect(JSON.parse(request!.body)).toMatchObject({
      event: 'response.submitted',
      response: { data: { name: 'Still hooked' } },
    });
    const [delivery] = await settledDeliveries(hub, key, hookId);
    expect(delivery!.status).toBe('succeeded');
  });
});

const TMP_PLUGIN = `export default {
  metadata: { id: 'tmpplug', name: 'Tmp', version: '1.0.0', configSchema: { type: 'object' } },
  async onResponseSubmitted(event, ctx) {
    await ctx.http.request({ url: ctx.config.url, method: 'POST', body: JSON.stringify(event.data) });
  },
};
`;
const THROWER = `export default {
  metadata: { id: 'thrower', name: 'Thrower', version: '1.0.0', configSchema: { type: 'object' } },
  async onResponseSubmitted() {
    throw new Error('the thrower plugin exploded');
  },
};
`;
/**
 * One log, in order, of what the tmpplug receiver got and when the hub ended a hanging
 * attempt: the plugins run in this process, so they reach it through globalThis.
 */
const ORDER_LOG = 'formhubIntegrationsOrder';
const order: string[] = [];
(globalThis as Record<string, unknown>)[ORDER_LOG] = order;
const HANGER = `export default {
  metadata: { id: 'hanger', name: 'Hanger', version: '1.0.0', configSchema: { type: 'object' } },
  onResponseSubmitted(event, ctx) {
    // Notes, in the test's shared log, the moment the hub gives up on this attempt.
    ctx.signal.addEventListener('abort', () => globalThis.${ORDER_LOG}?.push('hanger attempt ended'));
    return new Promise(() => {});
  },
};
`;
const SYNTAX_ERROR = `export default { metadata: { id: 'broken', name: 'Broken', version: '1.0.0', configSchema: {} }, oops( };\n`;
/** A hook that is not async: it returns normally (undefined), which the SDK calls success. */
const SYNC_HOOK = `export default {
  metadata: { id: 'syncplug', name: 'Sync', version: '1.0.0', configSchema: { type: 'object' } },
  onResponseSubmitted(event, ctx) {
    ctx.logger.info('handled synchronously');
  },
};
`;
const NO_METADATA = `export default { async onResponseSubmitted() {} };\n`;

describe('plugins from PLUGINS_DIR', () => {
  const PLUGIN_TIMEOUT_MS = 2_500;
  let dir: string;
  let hub: TestHub;
  let key: string;
  let receiver: Receiver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-plugins-'));
    const write = (name: string, source: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'index.mjs'), source);
    };
    write('tmpplug', TMP_PLUGIN);
    write('thrower', THROWER);
    write('hanger', HANGER);
    write('broken', SYNTAX_ERROR);
    write('nometa', NO_METADATA);
    write('syncplug', SYNC_HOOK);
    hub = await startHub(
      {
        ...ENV,
        PLUGINS_DIR: dir,
        WEBHOOK_RETRY_SCHEDULE: '100ms',
        WEBHOOK_TIMEOUT_MS: String(PLUGIN_TIMEOUT_MS),
      },
      { worker: true },
    );
    key = (await hub.workspace()).key;
    receiver = await startReceiver((_n, request) => {
      order.push(
        `received ${String((JSON.parse(request.body || '{}') as { name?: unknown }).name)}`,
      );
      return { status: 200, body: 'tmp ok' };
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await hub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the good plugins and skips the broken ones; the hub starts', async () => {
    const ids = (await connectors(hub, key)).map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining(['tmpplug', 'thrower', 'hanger', 'syncplug', 'webhook', 'zapier']),
    );
    expect(ids).not.toContain('broken');
    expect(ids).not.toContain('echo');
    expect(ids.some((id) => id.includes('nometa'))).toBe(false);
    expect((await hub.request({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('a plain-JS plugin receives events', async () => {
    const formId = await newForm(hub, key);
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'tmpplug', config: { url: receiver.url } },
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as Integration).id;
    const before = receiver.requests.length;
    await submit(hub, formId, { name: 'Plain', age: 7 });
    const requests = await receiver.waitFor(before + 1);
    expect(JSON.parse(requests[before]!.body)).toEqual({ name: 'Plain', age: 7 });
    const [delivery] = await settledDeliveries(hub, key, id, 1, 'integrations');
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 200, response_excerpt: 'tmp ok' }],
    });
  });

  it('a hook that returns normally without a promise succeeds (a hook succeeds by returning)', async () => {
    const formId = await newForm(hub, key);
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'syncplug', config: {} },
    });
    expect(res.statusCode, res.body).toBe(201);
    // Whatever the hook does, nothing may be left to reject unhandled (that would kill the process).
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      await submit(hub, formId, { name: 'Sync' });
      const [delivery] = await settledDeliveries(
        hub,
        key,
        (res.json() as Integration).id,
        1,
        'integrations',
      );
      // Outlive the attempt timeout, so that a timer the attempt left behind has fired.
      await sleep(PLUGIN_TIMEOUT_MS + 300);
      expect(unhandled.map(String)).toEqual([]);
      expect(delivery!.attempts[0]!.error).toBeNull();
      expect(delivery!.status).toBe('succeeded');
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('a hook that throws costs a failed attempt, then the delivery is dead', async () => {
    const formId = await newForm(hub, key);
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'thrower', config: {} },
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as Integration).id;
    await submit(hub, formId, { name: 'Boom' });
    const [delivery] = await settledDeliveries(hub, key, id, 1, 'integrations');
    expect(delivery!.status).toBe('dead');
    expect(delivery!.next_attempt_at).toBeNull();
    expect(delivery!.attempts.map((a) => a.number)).toEqual([1, 2]);
    for (const attempt of delivery!.attempts) {
      expect(attempt.status_code).toBe(0);
      expect(attempt.error).toContain('the thrower plugin exploded');
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('a hook that hangs costs a timed-out attempt while the worker keeps delivering', async () => {
    const formId = await newForm(hub, key);
    const hanger = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'hanger', config: {} },
    });
    const tmp = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'tmpplug', config: { url: receiver.url } },
    });
    expect(hanger.statusCode, hanger.body).toBe(201);
    expect(tmp.statusCode, tmp.body).toBe(201);
    const hangerId = (hanger.json() as Integration).id;
    const before = receiver.requests.length;
    const logged = order.length;
    await submit(hub, formId, { name: 'one' });
    await submit(hub, formId, { name: 'two' });
    const got = await receiver.waitFor(before + 2);
    expect(
      got
        .slice(before)
        .map((q) => JSON.parse(q.body).name)
        .sort(),
    ).toEqual(['one', 'two']);

    const first = await eventually(async () => {
      const data = await listDeliveries(hub, key, hangerId, 'integrations');
      return data.every((d) => d.attempts.length >= 1) ? data : undefined;
    });
    for (const d of first) {
      const attempt = d.attempts[0]!;
      expect(attempt.status_code).toBe(0);
      expect(attempt.error).toMatch(/time.?out|within \d+ ?ms/i);
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(PLUGIN_TIMEOUT_MS - 100);
    }
    // Both events reached the other plugin while the first hanging attempts were still in
    // flight: in the one log, both arrivals come before the end of any hanging attempt.
    await eventually(async () =>
      order.slice(logged).filter((e) => e === 'hanger attempt ended').length >= 2
        ? true
        : undefined,
    );
    const events = order.slice(logged);
    expect(events.slice(0, 2).sort()).toEqual(['received one', 'received two']);
    const dead = await settledDeliveries(hub, key, hangerId, 2, 'integrations');
    expect(dead.map((d) => d.status)).toEqual(['dead', 'dead']);
    expect(dead.map((d) => d.attempts.length)).toEqual([2, 2]);
  });
});
