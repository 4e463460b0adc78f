import { createRequire } from 'node:module';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_DATABASE_URL } from '../support/database.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// The Zapier app is CommonJS (connectors/zapier/app/package.json says so): load it, and
// zapier-platform-core, through require so both share the one CJS module instance.
const require = createRequire(import.meta.url);

type Perform = (...args: never[]) => unknown;
interface ZapierApp {
  version: string;
  platformVersion: string;
  authentication: { test: Perform; connectionLabel: Perform };
  triggers: Record<string, { operation: Record<string, Perform> }>;
}
type AppTester = (method: Perform, bundle?: Record<string, unknown>) => Promise<unknown>;
interface ZapierCore {
  version: string;
  createAppTester(app: object): AppTester;
  createAppHandler(app: object): (event: { command: string }) => Promise<{ results: unknown }>;
}

const App = require('../../connectors/zapier/app/index.js') as ZapierApp;
const zapier = require('zapier-platform-core') as ZapierCore;

type Flat = Record<string, unknown>;

describe('the formhub Zapier app against a running hub', () => {
  let hub: TestHub;
  let receiver: Receiver;
  let baseUrl: string;
  let key: string;
  let workspaceId: string;
  let formId: string;
  const appTester = zapier.createAppTester(App);
  const auth = () => ({ api_key: key, baseUrl });

  // Every TCP connection the process opens while the app runs: all must stay local.
  const hosts = new Set<string>();
  const originalConnect = net.Socket.prototype.connect;

  beforeAll(async () => {
    // Core streams its logs to Zapier only when it has a token (LOGGING_TOKEN, or the
    // `token` of a real invocation): createAppTester sends none, so nothing leaves.
    delete process.env.LOGGING_TOKEN;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      let first = args[0];
      if (Array.isArray(first)) first = first[0];
      if (typeof first === 'object' && first) {
        const o = first as { host?: string; path?: string };
        if (!o.path) hosts.add(o.host ?? 'localhost');
      } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
        hosts.add(typeof args[1] === 'string' ? args[1] : 'localhost');
      }
      return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof originalConnect;

    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms,200ms' },
      { worker: true },
    );
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const address = hub.app.server.address();
    if (!address || typeof address === 'string') throw new Error('hub has no TCP address');
    baseUrl = `http://127.0.0.1:${address.port}`;
    receiver = await startReceiver();

    ({ id: workspaceId, key } = await hub.workspace('Zap workspace'));
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Zapped form',
        fields: [
          { key: 'name', type: 'text' },
          { key: 'age', type: 'integer' },
          { key: 'tags', type: 'multiselect', options: ['a', 'b', 'c'] },
        ],
      },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id;
  });

  afterAll(async () => {
    net.Socket.prototype.connect = originalConnect;
    await receiver?.close();
    await hub?.close();
  });

  it('is a valid app definition for zapier-platform-core', async () => {
    expect(App.platformVersion).toBe(zapier.version);
    const { results } = await zapier.createAppHandler(App)({ command: 'validate' });
    expect(results).toEqual([]);
  });

  it('authenticates with the API key and labels the connection with the workspace name', async () => {
    const me = (await appTester(App.authentication.test, { authData: auth() })) as {
      workspace: { id: string; name: string };
    };
    expect(me).toEqual({ workspace: { id: workspaceId, name: 'Zap workspace' } });
    const label = await appTester(App.authentication.connectionLabel, {
      authData: auth(),
      inputData: me,
    });
    expect(label).toBe('Zap workspace');
  });

  it('rejects a bad API key with a clear message', async () => {
    await expect(
      appTester(App.authentication.test, { authData: { api_key: 'not-a-real-key', baseUrl } }),
    ).rejects.toThrow(/API key was rejected by formhub \(401\)/);
  });

  it('lists the forms for the dynamic dropdown', async () => {
    const forms = await appTester(App.triggers.form_list!.operation.perform!, {
      authData: auth(),
      meta: { isFillingDynamicDropdown: true },
    });
    expect(forms).toEqual([{ id: formId, title: 'Zapped form' }]);
  });

  it('subscribes, receives a flat hook, performs it, lists the same shape, and unsubscribes', async () => {
    const trigger = App.triggers.new_response!.operation;
    const bundle = { authData: auth(), inputData: { form_id: formId } };

    const subscribeData = (await appTester(trigger.performSubscribe!, {
      ...bundle,
      targetUrl: receiver.url,
    })) as { id: string };
    expect(subscribeData).toEqual({ id: expect.any(String) });
    const integration = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${subscribeData.id}`,
      key,
    });
    expect(integration.statusCode, integration.body).toBe(200);
    expect(integration.json()).toMatchObject({ connector: 'zapier' });

    const submitted = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name: 'Ada', age: 36, tags: ['a', 'c'] } },
    });
    expect(submitted.statusCode, submitted.body).toBe(201);
    const responseId = submitted.json().id as string;

    const [request] = await receiver.waitFor(1);
    expect(request!.method).toBe('POST');
    const hook = JSON.parse(request!.body) as Flat;
    expect(hook).toEqual({
      id: responseId,
      form_id: formId,
      submitted_at: expect.any(String),
      name: 'Ada',
      age: 36,
      tags: ['a', 'c'],
    });

    const performed = await appTester(trigger.perform!, {
      ...bundle,
      cleanedRequest: hook,
      rawRequest: { content: request!.body },
    });
    expect(performed).toEqual([hook]);

    const listed = (await appTester(trigger.performList!, bundle)) as Flat[];
    expect(listed.length).toBeGreaterThan(0);
    const same = listed.find((item) => item.id === responseId);
    expect(same).toEqual(hook);
    for (const item of listed) expect(Object.keys(item).sort()).toEqual(Object.keys(hook).sort());

    const unsubscribed = await appTester(trigger.performUnsubscribe!, { ...bundle, subscribeData });
    expect(unsubscribed).toEqual({ id: subscribeData.id, deleted: true });
    const again = await hub.request({
      method: 'DELETE',
      url: `/api/v2/zapier/hooks/${subscribeData.id}`,
      key,
    });
    expect(again.statusCode).toBe(404);
    // Turning off a Zap whose hook is already gone still succeeds.
    await expect(
      appTester(trigger.performUnsubscribe!, { ...bundle, subscribeData }),
    ).resolves.toEqual({ id: subscribeData.id, deleted: true });

    // No more deliveries once unsubscribed. A second Zap, subscribed now, is the sentinel:
    // the late response must reach it, and by then the first hook must have had nothing more.
    const sentinel = (await appTester(trigger.performSubscribe!, {
      ...bundle,
      targetUrl: `${receiver.url}/sentinel`,
    })) as { id: string };
    const late = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name: 'Late' } },
    });
    expect(late.statusCode, late.body).toBe(201);
    const [, arrived] = await receiver.waitFor(2);
    expect(arrived!.url).toBe('/hook/sentinel');
    expect((JSON.parse(arrived!.body) as Flat).name).toBe('Late');
    expect(receiver.requests.filter((r) => r.url === '/hook')).toHaveLength(1);
    await appTester(trigger.performUnsubscribe!, { ...bundle, subscribeData: sentinel });
  });

  it('kept all of its traffic local', () => {
    const allowed = new Set([
      '127.0.0.1',
      'localhost',
      '::1',
      new URL(ADMIN_DATABASE_URL).hostname,
    ]);
    if (process.env.TEST_REDIS_URL) allowed.add(new URL(process.env.TEST_REDIS_URL).hostname);
    expect([...hosts].filter((h) => !allowed.has(h))).toEqual([]);
    expect(hosts.has('127.0.0.1')).toBe(true);
  });
});
