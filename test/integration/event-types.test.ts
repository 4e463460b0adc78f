import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_EVENT_TYPES } from '../../src/events/index.ts';
import { ADMIN_KEY, startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/*
 * The event catalog against the hub's own deliveries: every payload a real webhook receives
 * (submit, update, complete, delete, test, anomaly) must validate against the schema the
 * catalog publishes for its event type. The schemas and the builder share one source (the
 * SDK's DEFAULT_PAYLOAD_SCHEMAS); this is the check that they agree at run time too.
 */

const DAY = 86_400_000;
const TODAY = Date.UTC(
  new Date().getUTCFullYear(),
  new Date().getUTCMonth(),
  new Date().getUTCDate(),
);
const utcDay = (offset: number) => new Date(TODAY + offset * DAY).toISOString().slice(0, 10);

interface Entry {
  type: string;
  description: string;
  schema: Record<string, unknown>;
}

/** Strict ajv: an unknown keyword or format in a published schema fails to compile. */
function compiler() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv;
}

describe('event catalog', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let webhookId: string;
  let receiver: Receiver;
  let catalog: Entry[];

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms,200ms' },
      { worker: true },
    );
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Catalogued',
        fields: [
          { key: 'name', type: 'text' },
          { key: 'n', type: 'integer' },
          { key: 'tags', type: 'multiselect', options: ['a', 'b'] },
        ],
        calculated_fields: [{ key: 'greeting', logic: { cat: ['Hi ', { var: 'data.name' }] } }],
      },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id;
    receiver = await startReceiver();
    const hook = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: { url: receiver.url, events: [...PUBLIC_EVENT_TYPES] },
    });
    expect(hook.statusCode, hook.body).toBe(201);
    webhookId = hook.json().id;
    const res = await hub.request({ method: 'GET', url: '/api/v2/event-types', key });
    expect(res.statusCode, res.body).toBe(200);
    catalog = res.json().data;
  }, 60_000);
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  it('lists every event type a webhook can receive, each with a valid JSON Schema', () => {
    expect(catalog.map((e) => e.type).sort()).toEqual([...PUBLIC_EVENT_TYPES, 'ping'].sort());
    const ajv = compiler();
    for (const entry of catalog) {
      expect(entry.description.length).toBeGreaterThan(0);
      expect(() => ajv.compile(entry.schema), entry.type).not.toThrow();
      expect(entry.schema).toMatchObject({ properties: { event: { const: entry.type } } });
    }
  });

  it('needs a workspace key: 401 without one, 403 with the admin key (as GET /connectors)', async () => {
    const none = await hub.request({ method: 'GET', url: '/api/v2/event-types' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const admin = await hub.request({ method: 'GET', url: '/api/v2/event-types', key: ADMIN_KEY });
    expect(admin.statusCode).toBe(403);
  });

  it('publishes the same schemas as OpenAPI 3.1 webhooks', async () => {
    const res = await hub.request({ method: 'GET', url: '/api/v2/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.webhooks).sort()).toEqual(catalog.map((e) => e.type).sort());
    for (const entry of catalog) {
      const body = doc.webhooks[entry.type].post.requestBody.content['application/json'];
      expect(body.schema, entry.type).toEqual(entry.schema);
    }
    expect(doc.paths['/api/v2/event-types'].get).toBeDefined();
  });

  it('validates every payload the hub really delivers, one event type at a time', async () => {
    const submit = (payload: Record<string, unknown>) =>
      hub.request({ method: 'POST', url: `/api/v2/forms/${formId}/responses`, payload });
    const done = await submit({ data: { name: 'Ada', n: 3, tags: ['a'] } });
    expect(done.statusCode, done.body).toBe(201);
    const partial = await submit({ data: { name: 'Bo' }, completed: false });
    const resume = { 'x-resume-token': partial.json().resume_token as string };
    const patch = (payload: Record<string, unknown>) =>
      hub.request({
        method: 'PATCH',
        url: `/api/v2/responses/${partial.json().id}`,
        headers: resume,
        payload,
      });
    expect((await patch({ data: { n: 4 } })).statusCode).toBe(200); // response.updated
    expect((await patch({ completed: true })).statusCode).toBe(200); // response.submitted
    const removed = await hub.request({
      method: 'DELETE',
      url: `/api/v2/responses/${done.json().id}`,
      key,
    });
    expect(removed.statusCode).toBeLessThan(300);
    const ping = await hub.request({
      method: 'POST',
      url: `/api/v2/webhooks/${webhookId}/test`,
      key,
    });
    expect(ping.statusCode, ping.body).toBeLessThan(300);
    await raiseAnomaly();

    const ajv = compiler();
    const validators = new Map<string, ValidateFunction>(
      catalog.map((e) => [e.type, ajv.compile(e.schema)]),
    );
    const eventOf = (body: string) => (JSON.parse(body) as { event: string }).event;
    const requests = await eventually(async () => {
      const types = new Set(receiver.requests.map((r) => eventOf(r.body)));
      return catalog.every((e) => types.has(e.type)) ? [...receiver.requests] : undefined;
    }, 30_000);
    const seen = new Set<string>();
    for (const request of requests) {
      const body = JSON.parse(request.body) as { event: string };
      const validate = validators.get(body.event);
      expect(validate, body.event).toBeDefined();
      expect(validate!(body), `${body.event}: ${JSON.stringify(validate!.errors)}`).toBe(true);
      seen.add(body.event);
      // The schemas are closed: a key the builder added without its schema would fail.
      expect(validate!({ ...body, extra: 1 })).toBe(false);
    }
    expect([...seen].sort()).toEqual(catalog.map((e) => e.type).sort());
  }, 60_000);

  /** Two months of steady days, then one day nearly empty: the daily scan's anomaly. */
  async function raiseAnomaly(): Promise<void> {
    const lines: string[] = [];
    for (let offset = -60; offset <= -1; offset++) {
      const count = offset === -3 ? 2 : 30 + (offset % 3);
      for (let i = 0; i < count; i++) {
        const hour = String(8 + (i % 12)).padStart(2, '0');
        lines.push(
          JSON.stringify({ data: { n: i }, submitted_at: `${utcDay(offset)}T${hour}:00:00Z` }),
        );
      }
    }
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: lines.join('\n'),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(await hub.services.insights.scanAnomalies()).toBeGreaterThan(0);
  }
});
