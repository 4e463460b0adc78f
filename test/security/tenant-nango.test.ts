import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/common/ids.ts';
import { SecretBox } from '../../src/secrets/index.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import { settledDeliveries } from '../support/deliveries.ts';
import { startFakeNango, type FakeNango } from '../support/fakes/nango.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const A_TOKEN = 'a-salesforce-token-0123456789';
const MAPPING = { LastName: 'last', Company: 'company' };

/**
 * Issue #13, attack 1: workspace B named workspace A's Nango connection in a Salesforce
 * integration, with `instance_url` pointing at a host B controls; the hub fetched A's token
 * with its own Nango secret key and sent it there. The fake Nango is a local HTTP server the
 * real @nangohq/node client talks to; the attacker's host is a local receiver.
 */
describe('Nango connections belong to one workspace', () => {
  let hub: TestHub;
  let nango: FakeNango;
  let attacker: Receiver;
  let a: { id: string; key: string };
  let b: { id: string; key: string };

  beforeAll(async () => {
    nango = await startFakeNango();
    attacker = await startReceiver(() => ({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: '{"id":"001","success":true,"errors":[]}',
    }));
    hub = await startHub(
      {
        NANGO_HOST: nango.url,
        NANGO_SECRET_KEY: nango.secretKey,
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '100ms',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
      { worker: true },
    );
    a = await hub.workspace('A');
    b = await hub.workspace('B');
    // A's connection; like some real ones, it names no instance URL.
    nango.setConnection('sf-a', { providerConfigKey: 'salesforce', accessToken: A_TOKEN });
  });
  afterAll(async () => {
    await hub?.close();
    await attacker?.close();
    await nango?.close();
  });

  async function newForm(key: string): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Leads',
        fields: [
          { key: 'last', type: 'text' },
          { key: 'company', type: 'text' },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  const connect = (key: string, formId: string, payload: Record<string, unknown>) =>
    hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'salesforce', ...payload },
    });

  const submit = (formId: string, last: string) =>
    hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { last, company: 'Acme' } },
    });

  /** Every token that reached the attacker's host. */
  const stolen = () => attacker.requests.map((r) => String(r.headers.authorization ?? ''));

  it("refuses B's integration naming A's connection (create and update): 422 on connection_id, and A's token never reaches B's host", async () => {
    const formA = await newForm(a.key);
    const mine = await connect(a.key, formA, {
      connection_id: 'sf-a',
      config: { object: 'Lead', mapping: MAPPING },
    });
    expect(mine.statusCode, mine.body).toBe(201);

    const formB = await newForm(b.key);
    const theft = {
      object: 'Lead',
      mapping: MAPPING,
      instance_url: attacker.url.replace(/\/hook$/, ''),
    };
    const created = await connect(b.key, formB, {
      connection_id: 'sf-a',
      provider_config_key: 'salesforce',
      config: theft,
    });
    expect(fieldsOf(expectError(created, 422, 'validation_failed'))).toEqual(['connection_id']);
    expect(created.body).not.toContain(A_TOKEN);

    // B's own integration (its own token, the same host) is accepted; moving it onto A's connection is not.
    const own = await connect(b.key, formB, { config: { ...theft, token: 'b-own-token' } });
    expect(own.statusCode, own.body).toBe(201);
    const ownId = (own.json() as { id: string }).id;
    const moved = await hub.request({
      method: 'PATCH',
      url: `/api/v2/integrations/${ownId}`,
      key: b.key,
      payload: { connection_id: 'sf-a' },
    });
    expect(fieldsOf(expectError(moved, 422, 'validation_failed'))).toEqual(['connection_id']);

    // A response on B's form reaches B's host with B's own token only.
    expect((await submit(formB, 'Mallory')).statusCode).toBe(201);
    const [delivery] = await settledDeliveries(hub, b.key, ownId, 1, 'integrations');
    expect(delivery!.status).toBe('succeeded');
    expect(stolen()).toEqual(['Bearer b-own-token']);
  });

  it("when Nango names the connection's end user, that workspace owns it even if another registered first", async () => {
    nango.setConnection('sf-session', {
      providerConfigKey: 'salesforce',
      accessToken: 'session-token',
      endUser: { id: a.id },
    });
    const first = await connect(b.key, await newForm(b.key), {
      connection_id: 'sf-session',
      config: { object: 'Lead', mapping: MAPPING },
    });
    expect(fieldsOf(expectError(first, 422, 'validation_failed'))).toEqual(['connection_id']);
    const owner = await connect(a.key, await newForm(a.key), {
      connection_id: 'sf-session',
      config: { object: 'Lead', mapping: MAPPING },
    });
    expect(owner.statusCode, owner.body).toBe(201);
  });

  it('refuses a provider config key the connector does not accept (422 on provider_config_key)', async () => {
    nango.setConnection('slack-of-b', { providerConfigKey: 'slack', accessToken: 'xoxb-b' });
    const res = await connect(b.key, await newForm(b.key), {
      connection_id: 'slack-of-b',
      provider_config_key: 'slack',
      config: { object: 'Lead', mapping: MAPPING },
    });
    expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['provider_config_key']);
  });

  it('a connection_id never reaches another Nango path (it is URL-encoded, dot segments refused)', async () => {
    const formB = await newForm(b.key);
    const before = nango.requests.length;
    const traversal = await connect(b.key, formB, {
      connection_id: '../environment-variables#',
      config: { object: 'Lead', mapping: MAPPING },
    });
    expect(fieldsOf(expectError(traversal, 422, 'validation_failed'))).toEqual(['connection_id']);
    const asked = nango.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    for (const request of asked) {
      expect(request.path).toBe('/connections/..%2Fenvironment-variables%23');
      expect(request.query.provider_config_key).toBe('salesforce');
    }
    for (const id of ['..', '.']) {
      const dots = await connect(b.key, formB, {
        connection_id: id,
        config: { object: 'Lead', mapping: MAPPING },
      });
      expect(fieldsOf(expectError(dots, 422, 'validation_failed'))).toEqual(['connection_id']);
    }
    expect(nango.requests.slice(before).every((r) => r.path.startsWith('/connections/'))).toBe(
      true,
    );
    expect(nango.requests.slice(before)).toHaveLength(asked.length);
  });

  it("a Nango token goes only to Nango's instance URL, never to the config's", async () => {
    const before = attacker.requests.length;
    const formA = await newForm(a.key);
    // A's own connection names no instance URL; the config's (here a host A does not control) is not used.
    const res = await connect(a.key, formA, {
      connection_id: 'sf-a',
      config: {
        object: 'Lead',
        mapping: MAPPING,
        instance_url: attacker.url.replace(/\/hook$/, ''),
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    expect((await submit(formA, 'Ada')).statusCode).toBe(201);
    const [delivery] = await settledDeliveries(hub, a.key, id, 1, 'integrations');
    expect(delivery!.status).toBe('dead');
    expect(delivery!.attempts[0]!.error).toMatch(/instance URL/);
    expect(attacker.requests.slice(before)).toHaveLength(0);
    expect(stolen()).not.toContain(`Bearer ${A_TOKEN}`);
  });

  it('the worker refuses a stored integration naming a connection whose Nango end user is another workspace', async () => {
    // A row written before the API checked owners (or by any other path): B's integration on A's session connection.
    const salesforceOfA = await startReceiver();
    try {
      nango.setConnection('sf-legacy', {
        providerConfigKey: 'salesforce',
        accessToken: 'legacy-token-of-a',
        endUser: { id: a.id },
        connectionConfig: { instance_url: salesforceOfA.url.replace(/\/hook$/, '') },
      });
      const formB = await newForm(b.key);
      const box = new SecretBox(Buffer.from(hub.config.encryptionKey!, 'base64'));
      const id = uuidv7();
      await hub.db.query(
        `INSERT INTO integrations (id, workspace_id, form_id, connector, events, config_sealed, connection_id, provider_config_key)
         VALUES ($1, $2, $3, 'salesforce', '{response.submitted}', $4, 'sf-legacy', 'salesforce')`,
        [id, b.id, formB, box.sealJson({ object: 'Lead', mapping: MAPPING })],
      );
      expect((await submit(formB, 'Eve')).statusCode).toBe(201);
      const [delivery] = await settledDeliveries(hub, b.key, id, 1, 'integrations');
      expect(delivery!.status).toBe('dead');
      expect(delivery!.attempts[0]!.error).toMatch(/another workspace/);
      expect(salesforceOfA.requests).toHaveLength(0);
      // Nor can B keep it by updating the row: Nango names A, so any update is a 422.
      const kept = await hub.request({
        method: 'PATCH',
        url: `/api/v2/integrations/${id}`,
        key: b.key,
        payload: { active: true },
      });
      expect(fieldsOf(expectError(kept, 422, 'validation_failed'))).toEqual(['connection_id']);
    } finally {
      await salesforceOfA.close();
    }
  });
});
