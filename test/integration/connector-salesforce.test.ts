import { runPlugin, sampleEvent } from '@formhub/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SalesforcePlugin from '../../connectors/salesforce/index.ts';
import { expectError, fieldsOf } from '../support/api.ts';
import { deliveryIn, settledDeliveries } from '../support/deliveries.ts';
import { startFakeNango, type FakeNango } from '../support/fakes/nango.ts';
import { startFakeSalesforce, type FakeSalesforce } from '../support/fakes/salesforce.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const TIMEOUT_MS = 1_000;
const TOKEN = '00Dxx0000001gPL!AR8AQJXg5sq2Tz1X';
const LEAD_MAPPING = {
  FirstName: 'first',
  LastName: 'last',
  Company: 'company',
  Email: 'email',
  Description: 'interests',
  Formhub_Submitted__c: 'submitted_at',
};
const ANSWERS = {
  first: 'Ada',
  last: 'Lovelace',
  company: 'Analytical Engines',
  email: 'ada@example.com',
  interests: ['math', 'looms'],
};

interface Integration {
  id: string;
  connector: string;
  config: Record<string, unknown>;
}

describe('salesforce connector', () => {
  let hub: TestHub;
  let key: string;
  let nango: FakeNango;
  const fakes: FakeSalesforce[] = [];

  beforeAll(async () => {
    nango = await startFakeNango();
    hub = await startHub(
      {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        NANGO_HOST: nango.url,
        NANGO_SECRET_KEY: nango.secretKey,
      },
      { worker: true },
    );
    key = (await hub.workspace()).key;
  });
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await nango?.close();
    await hub?.close();
  });

  async function salesforce(tokens = [TOKEN]): Promise<FakeSalesforce> {
    const fake = await startFakeSalesforce({ tokens });
    fakes.push(fake);
    return fake;
  }

  async function newForm(): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Sales enquiry',
        fields: [
          { key: 'first', type: 'text' },
          { key: 'last', type: 'text' },
          { key: 'company', type: 'text' },
          { key: 'email', type: 'email' },
          { key: 'interests', type: 'multiselect', options: ['math', 'looms', 'poetry'] },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  async function connect(formId: string, payload: Record<string, unknown>): Promise<Integration> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
      payload: { connector: 'salesforce', ...payload },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Integration;
  }

  async function submit(
    formId: string,
    data: Record<string, unknown> = ANSWERS,
  ): Promise<{ id: string; submitted_at: string }> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; submitted_at: string };
  }

  it('is listed with its config schema, and a config that breaks it is a 422', async () => {
    const list = await hub.request({ method: 'GET', url: '/api/v2/connectors', key });
    const connector = (
      list.json() as { data: { id: string; config_schema: Record<string, unknown> }[] }
    ).data.find((c) => c.id === 'salesforce');
    expect(connector?.config_schema).toMatchObject({
      required: ['object', 'mapping'],
      properties: { object: { enum: ['Lead', 'Contact'] }, token: { writeOnly: true } },
    });
    const formId = await newForm();
    const invalid = [
      { object: 'Account', mapping: { Name: 'company' } },
      { object: 'Lead', mapping: {} },
      { object: 'Lead', mapping: { 'Last-Name': 'last' } },
      { object: 'Lead', mapping: { Id: 'id' } },
      { object: 'Lead', mapping: { LastName: 'last' }, external_id_field: 'Email' },
      { mapping: { LastName: 'last' } },
    ];
    for (const config of invalid) {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/integrations`,
        key,
        payload: { connector: 'salesforce', config },
      });
      expect(
        fieldsOf(expectError(res, 422)).some((f) => f.startsWith('config')),
        JSON.stringify(config),
      ).toBe(true);
    }
  });

  it('creates a Lead from the mapping; the token is sealed and never returned', async () => {
    const sf = await salesforce();
    const formId = await newForm();
    const integration = await connect(formId, {
      config: { object: 'Lead', mapping: LEAD_MAPPING, token: TOKEN, instance_url: sf.url },
    });
    expect(integration.config).toEqual({
      object: 'Lead',
      mapping: LEAD_MAPPING,
      instance_url: sf.url,
    });
    const shown = [
      await hub.request({ method: 'GET', url: `/api/v2/integrations/${integration.id}`, key }),
      await hub.request({ method: 'GET', url: `/api/v2/forms/${formId}/integrations`, key }),
    ];
    for (const res of shown) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(TOKEN);
    }
    const { rows } = await hub.db.query<{ config_sealed: string }>(
      'SELECT config_sealed FROM integrations WHERE id = $1',
      [integration.id],
    );
    expect(rows[0]!.config_sealed).not.toContain(TOKEN);

    const response = await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    const [lead] = sf.recordsOf('Lead');
    expect(sf.records).toHaveLength(1);
    expect(lead!.fields).toEqual({
      FirstName: 'Ada',
      LastName: 'Lovelace',
      Company: 'Analytical Engines',
      Email: 'ada@example.com',
      Description: 'math;looms',
      Formhub_Submitted__c: response.submitted_at,
    });
    expect(sf.requests).toHaveLength(1);
    expect(sf.requests[0]).toMatchObject({
      method: 'POST',
      path: '/services/data/v59.0/sobjects/Lead',
    });
    expect(sf.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // The attempt log is written by ctx.http, which jsforce is routed through.
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 201, error: null }],
    });
    expect(delivery!.attempts[0]!.response_excerpt).toContain(lead!.Id);
  });

  it('upserts on the external id field, so a replay updates the one Lead', async () => {
    const sf = await salesforce();
    const formId = await newForm();
    const integration = await connect(formId, {
      config: {
        object: 'Lead',
        mapping: LEAD_MAPPING,
        external_id_field: 'Formhub_Id__c',
        token: TOKEN,
        instance_url: sf.url,
      },
    });
    const response = await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: [{ status_code: 201 }] });
    expect(sf.recordsOf('Lead')).toHaveLength(1);
    expect(sf.records[0]!.fields).toMatchObject({
      LastName: 'Lovelace',
      Formhub_Id__c: response.id,
    });

    const replay = await hub.request({
      method: 'POST',
      url: `/api/v2/deliveries/${delivery!.id}/replay`,
      key,
    });
    expect(replay.statusCode, replay.body).toBe(202);
    const replayed = await deliveryIn(hub, key, delivery!.id, 'succeeded');
    expect(replayed.attempts).toHaveLength(2);
    expect(replayed.attempts[1]).toMatchObject({
      number: 2,
      status_code: 200,
      manual: true,
      error: null,
    });
    expect(sf.recordsOf('Lead')).toHaveLength(1);
    expect(sf.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /services/data/v59.0/sobjects/Lead/Formhub_Id__c/${response.id}`,
      `PATCH /services/data/v59.0/sobjects/Lead/Formhub_Id__c/${response.id}`,
    ]);
    // jsforce sends the external id in the URL, not in the body.
    expect(JSON.parse(sf.requests[0]!.body)).not.toHaveProperty('Formhub_Id__c');
  });

  it('a validation error is dead after one attempt, whose log shows Salesforce’s errorCode and message', async () => {
    const sf = await salesforce();
    const formId = await newForm();
    const integration = await connect(formId, {
      config: {
        object: 'Lead',
        mapping: { LastName: 'last', Email: 'email' },
        token: TOKEN,
        instance_url: sf.url,
      },
    });
    await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery!.status).toBe('dead');
    expect(delivery!.attempts).toHaveLength(1);
    const [attempt] = delivery!.attempts;
    expect(attempt!.status_code).toBe(400);
    expect(attempt!.error).toContain('REQUIRED_FIELD_MISSING');
    expect(attempt!.error).toContain('Required fields are missing: [Company]');
    expect(sf.records).toHaveLength(0);
    expect(sf.requests).toHaveLength(1);
  });

  it('a 503 is retried by the delivery engine (jsforce does not retry on its own), then succeeds', async () => {
    const sf = await salesforce();
    const formId = await newForm();
    const integration = await connect(formId, {
      config: { object: 'Lead', mapping: LEAD_MAPPING, token: TOKEN, instance_url: sf.url },
    });
    sf.failNext(1, 503);
    await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [
        { number: 1, status_code: 503, error: expect.stringContaining('SERVER_UNAVAILABLE') },
        { number: 2, status_code: 201, error: null },
      ],
    });
    expect(sf.requests).toHaveLength(2);
    expect(sf.recordsOf('Lead')).toHaveLength(1);
  });

  it('a request that outlasts the attempt timeout is aborted and retried', async () => {
    const sf = await salesforce();
    const formId = await newForm();
    const integration = await connect(formId, {
      config: { object: 'Lead', mapping: LEAD_MAPPING, token: TOKEN, instance_url: sf.url },
    });
    sf.failNext(1, { delayMs: TIMEOUT_MS + 1_000 });
    await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [
        { number: 1, error: expect.any(String) },
        { number: 2, status_code: 201 },
      ],
    });
    expect(delivery!.attempts[0]!.latency_ms).toBeLessThan(TIMEOUT_MS + 900);
    expect(sf.recordsOf('Lead')).toHaveLength(1);
  });

  it('a 401 refreshes the token through Nango once and creates the Lead in the same attempt', async () => {
    const sf = await salesforce(['sf-fresh-token']);
    nango.setConnection('sf-acme', {
      providerConfigKey: 'salesforce',
      accessToken: 'sf-expired-token',
      nextToken: () => 'sf-fresh-token',
      connectionConfig: { instance_url: sf.url },
    });
    const formId = await newForm();
    const integration = await connect(formId, {
      connection_id: 'sf-acme',
      config: { object: 'Lead', mapping: LEAD_MAPPING },
    });
    await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: [{ number: 1, status_code: 201, error: null }],
    });
    expect(sf.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer sf-expired-token',
      'Bearer sf-fresh-token',
    ]);
    expect(sf.recordsOf('Lead')).toHaveLength(1);
    expect(nango.refreshes('sf-acme')).toBe(1);
    const asked = nango.requests.filter((r) => r.path === '/connections/sf-acme');
    expect(asked.map((r) => [r.query.provider_config_key, r.query.force_refresh])).toEqual([
      ['salesforce', 'false'], // the owner check at create
      ['salesforce', 'false'],
      ['salesforce', 'true'],
    ]);
  });

  it('a token still refused after one refresh is dead at once, without a refresh loop', async () => {
    const sf = await salesforce(['never-issued']);
    nango.setConnection('sf-revoked', {
      providerConfigKey: 'salesforce',
      accessToken: 'sf-revoked-token',
      connectionConfig: { instance_url: sf.url },
    });
    const formId = await newForm();
    const integration = await connect(formId, {
      connection_id: 'sf-revoked',
      config: { object: 'Lead', mapping: LEAD_MAPPING },
    });
    await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({ status: 'dead', attempts: [{ number: 1, status_code: 401 }] });
    expect(delivery!.attempts[0]!.error).toContain('INVALID_SESSION_ID');
    expect(sf.requests).toHaveLength(2);
    expect(nango.refreshes('sf-revoked')).toBe(1);
    expect(sf.records).toHaveLength(0);
  });

  it('creates a Contact too', async () => {
    const sf = await salesforce();
    const formId = await newForm();
    const integration = await connect(formId, {
      config: {
        object: 'Contact',
        mapping: { FirstName: 'first', LastName: 'last', Email: 'email' },
        token: TOKEN,
        instance_url: sf.url,
      },
    });
    await submit(formId);
    const [delivery] = await settledDeliveries(hub, key, integration.id, 1, 'integrations');
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: [{ status_code: 201 }] });
    expect(sf.recordsOf('Lead')).toHaveLength(0);
    const [contact] = sf.recordsOf('Contact');
    expect(contact).toMatchObject({
      Id: expect.stringMatching(/^003/),
      fields: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@example.com' },
    });
    expect(sf.requests[0]!.path).toBe('/services/data/v59.0/sobjects/Contact');
  });
});

describe('salesforce connector in the SDK harness', () => {
  it('creates a Lead against the fake, and a rejected record is a PermanentError with Salesforce’s message', async () => {
    const sf = await startFakeSalesforce({ tokens: [TOKEN] });
    try {
      const event = sampleEvent({
        data: { last: 'Hopper', company: 'US Navy', email: 'not-an-address' },
      });
      const config = {
        object: 'Lead' as const,
        mapping: { LastName: 'last', Company: 'company' },
        token: TOKEN,
        instance_url: sf.url,
      };
      const created = await runPlugin(new SalesforcePlugin(), { config, event });
      expect(created.error).toBeUndefined();
      expect(created.ok).toBe(true);
      expect(created.requests.map((r) => [r.request.method, r.response.status])).toEqual([
        ['POST', 201],
      ]);
      expect(sf.recordsOf('Lead').map((r) => r.fields)).toEqual([
        { LastName: 'Hopper', Company: 'US Navy' },
      ]);
      expect(created.logs).toContainEqual(
        expect.objectContaining({ level: 'info', message: 'salesforce record saved' }),
      );

      const rejected = await runPlugin(new SalesforcePlugin(), {
        config: { ...config, mapping: { ...config.mapping, Email: 'email' } },
        event,
      });
      expect(rejected.ok).toBe(false);
      expect(rejected.error).toMatchObject({ name: 'PermanentError', statusCode: 400 });
      expect(rejected.error!.message).toContain(
        'INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-address (fields: Email)',
      );
      expect(sf.records).toHaveLength(1);
    } finally {
      await sf.close();
    }
  });
});
