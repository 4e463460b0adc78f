import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import {
  App,
  recordConnections,
  startListeningHub,
  zapierCore,
  zapierSchema,
} from '../support/zapier-app.ts';

type Flat = Record<string, unknown>;

const APP_FORM_FIELDS = [
  { key: 'name', type: 'text', label: 'Full name', required: true },
  { key: 'age', type: 'integer', label: 'Age' },
  { key: 'subscribed', type: 'boolean', label: 'Subscribed?' },
  { key: 'department', type: 'select', label: 'Department', options: ['IT', 'HR', 'Sales'] },
  { key: 'tags', type: 'multiselect', label: 'Tags', options: ['a', 'b', 'c'] },
  { key: 'seen', type: 'datetime', label: 'Last seen' },
  { key: 'notes', type: 'textarea' },
];

/** The definition as Zapier receives it: functions replaced by `$func$` markers. */
async function serialized(): Promise<Record<string, unknown>> {
  const { results } = await zapierCore.createAppHandler(App)({ command: 'definition' });
  return results as Record<string, unknown>;
}

describe('the Zapier app: schema, dynamic output fields, "Updated Response" and conditions', () => {
  let hub: TestHub;
  let baseUrl: string;
  let key: string;
  let formId: string;
  const receivers: Receiver[] = [];
  const appTester = zapierCore.createAppTester(App);
  const auth = () => ({ api_key: key, baseUrl });
  const connections = recordConnections();

  beforeAll(async () => {
    ({ hub, baseUrl } = await startListeningHub());
    ({ key } = await hub.workspace('Trigger workspace'));
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Triggered form',
        fields: APP_FORM_FIELDS,
        calculated_fields: [{ key: 'shout', logic: { cat: [{ var: 'data.name' }, '!'] } }],
      },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id;
  });

  afterAll(async () => {
    connections.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  async function submit(data: Flat, completed = true): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      key,
      payload: { data, completed },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  it('passes zapier-platform-schema validation, and a broken copy does not', async () => {
    const definition = await serialized();
    expect(zapierSchema.validateAppDefinition(definition).errors).toEqual([]);
    expect(Object.keys(App.triggers).sort()).toEqual(
      ['field_list', 'form_list', 'new_response', 'updated_response'].sort(),
    );
    expect(Object.keys(App.searches)).toEqual(['find_response']);
    expect(Object.keys(App.creates)).toEqual(['create_response']);
    expect(App.searchOrCreates.find_response).toMatchObject({
      search: 'find_response',
      create: 'create_response',
    });

    // The validator must be able to say no: each of these breaks one rule, at `path`.
    const breakages: [path: string[], prop: string, value: unknown][] = [
      [['searches', 'find_response', 'operation'], 'perform', undefined],
      [['creates', 'create_response'], 'noun', ''],
      [['triggers', 'updated_response', 'operation'], 'type', 'nope'],
      [['searchOrCreates', 'find_response'], 'create', 'gone'],
    ];
    for (const [path, prop, value] of breakages) {
      const copy = structuredClone(definition);
      const parent = path.reduce((o, k) => o[k] as Record<string, unknown>, copy);
      if (value === undefined) delete parent[prop];
      else parent[prop] = value;
      const where = path.slice(0, 2).join('.');
      const { errors } = zapierSchema.validateAppDefinition(copy);
      expect(errors.length, where).toBeGreaterThan(0);
      expect(errors.map((e) => `${e.property} ${e.message}`).join('\n'), where).toContain(where);
    }
  });

  it('both triggers list the fixed keys, then the form fields by label, with Zapier types', async () => {
    const expected = [
      { key: 'id', label: 'Response ID', type: 'string' },
      { key: 'form_id', label: 'Form ID', type: 'string' },
      { key: 'submitted_at', label: 'Submitted At', type: 'datetime' },
      { key: 'name', label: 'Full name', type: 'string' },
      { key: 'age', label: 'Age', type: 'integer' },
      { key: 'subscribed', label: 'Subscribed?', type: 'boolean' },
      { key: 'department', label: 'Department', type: 'string' },
      { key: 'tags', label: 'Tags', type: 'string', list: true },
      { key: 'seen', label: 'Last seen', type: 'datetime' },
      { key: 'notes', label: 'notes', type: 'string' },
      { key: 'shout', label: 'shout' },
    ];
    for (const trigger of ['new_response', 'updated_response']) {
      const fields = await appTester(App.triggers[trigger]!.operation.outputFields!, {
        authData: auth(),
        inputData: { form_id: formId },
      });
      expect(fields, trigger).toEqual(expected);
    }
    // No form chosen yet: only the fixed keys.
    const bare = await appTester(App.triggers.updated_response!.operation.outputFields!, {
      authData: auth(),
      inputData: {},
    });
    expect(bare).toEqual(expected.slice(0, 3));
  });

  it('"Updated Response" subscribes to response.updated, gets the changed response flat, and unsubscribes', async () => {
    const trigger = App.triggers.updated_response!.operation;
    const target = await receiver();
    const bundle = { authData: auth(), inputData: { form_id: formId } };
    const subscribeData = (await appTester(trigger.performSubscribe as never, {
      ...bundle,
      targetUrl: target.url,
    })) as { id: string };
    expect(subscribeData).toEqual({ id: expect.any(String) });
    const integration = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${subscribeData.id}`,
      key,
    });
    expect(integration.json()).toMatchObject({ connector: 'zapier', events: ['response.updated'] });

    // A submission is not an update: the first request to arrive is the PATCH's.
    const id = await submit({ name: 'Ada', age: 36 });
    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${id}`,
      key,
      payload: { data: { age: 37 } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const [request] = await target.waitFor(1);
    const hook = JSON.parse(request!.body) as Flat;
    expect(hook).toEqual({
      id,
      form_id: formId,
      submitted_at: patched.json().submitted_at,
      name: 'Ada',
      age: 37,
      shout: 'Ada!',
    });
    const performed = await appTester(trigger.perform as never, {
      ...bundle,
      cleanedRequest: hook,
      rawRequest: { content: request!.body },
    });
    expect(performed).toEqual([hook]);

    const unsubscribed = await appTester(trigger.performUnsubscribe as never, {
      ...bundle,
      subscribeData,
    });
    expect(unsubscribed).toEqual({ id: subscribeData.id, deleted: true });
    const gone = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${subscribeData.id}`,
      key,
    });
    expect(gone.statusCode).toBe(404);
  });

  it('a condition on the trigger reaches the hub: only matching responses are delivered', async () => {
    const trigger = App.triggers.new_response!.operation;
    const filtered = await receiver();
    const sentinel = await receiver();
    const bundle = (condition?: string) => ({
      authData: auth(),
      inputData: { form_id: formId, ...(condition === undefined ? {} : { condition }) },
    });
    const conditional = (await appTester(trigger.performSubscribe as never, {
      ...bundle('{"data.department": {"$in": ["IT"]}}'),
      targetUrl: filtered.url,
    })) as { id: string };
    const stored = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${conditional.id}`,
      key,
    });
    expect(stored.json().condition).toEqual({ 'data.department': { $in: ['IT'] } });
    // A blank condition is no condition: this Zap sees every response.
    const all = (await appTester(trigger.performSubscribe as never, {
      ...bundle('  '),
      targetUrl: sentinel.url,
    })) as { id: string };

    await submit({ name: 'Hr person', department: 'HR' });
    const itId = await submit({ name: 'It person', department: 'IT' });
    await sentinel.waitFor(2);
    const [only] = await filtered.waitFor(1);
    expect(JSON.parse(only!.body)).toMatchObject({ id: itId, department: 'IT' });
    expect(filtered.requests).toHaveLength(1);
    // The relay decided both events for every hook by the time the sentinel had both: the
    // filtered Zap has one delivery in all, not a second one still on its way.
    const deliveries = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${conditional.id}/deliveries`,
      key,
    });
    expect(deliveries.statusCode, deliveries.body).toBe(200);
    expect(deliveries.json().data).toHaveLength(1);

    for (const data of [conditional, all])
      await appTester(trigger.performUnsubscribe as never, { ...bundle(), subscribeData: data });
  });

  it('a bad condition fails the subscription with a message naming it', async () => {
    const trigger = App.triggers.new_response!.operation;
    const subscribe = (condition: string) =>
      appTester(trigger.performSubscribe as never, {
        authData: auth(),
        inputData: { form_id: formId, condition },
        targetUrl: 'http://127.0.0.1:9/zap',
      });
    await expect(subscribe('{"data.department": ')).rejects.toThrow(/condition is not valid JSON/);
    await expect(subscribe('["IT"]')).rejects.toThrow(/condition must be a JSON object/);
    await expect(subscribe('{"data.nope": "x"}')).rejects.toThrow(
      /formhub: .*\(422\): condition\.data\.nope: /,
    );
    const hooks = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/integrations`,
      key,
    });
    const targets = (hooks.json().data as { config: { target_url?: string } }[]).map(
      (i) => i.config.target_url,
    );
    expect(targets).not.toContain('http://127.0.0.1:9/zap');
  });

  it('kept all of its traffic local', () => {
    expect(connections.nonLocal()).toEqual([]);
    expect(connections.hosts.has('127.0.0.1')).toBe(true);
  });
});
