/**
 * Hostile input that costs CPU: regular expressions, calculated fields and templates
 * (DESIGN.md 3a). Each test replays the attack as it was reproduced on the hub and measures
 * what a user would feel: the longest event-loop stall while it runs (the hub runs in this
 * process), plus the exact answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api.ts';
import { settledDeliveries } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { watchEventLoop, whileWatching } from './loop-watch.ts';

/** Generous for a shared test machine; the contract is 100 ms. */
const STALL_MS = 500;

/** `levels` sections over the same list, one inside the other, around `body`. */
function nestedSections(levels: number, body: string): string {
  let source = body;
  for (let i = 0; i < levels; i++) source = `{{#data.tags}}${source}{{/data.tags}}`;
  return source;
}

/** Three nested maps over 100-element lists: a million evaluations, 1.6 KB of JSON. */
function nestedMaps(): unknown {
  const list = Array.from({ length: 100 }, (_, i) => i);
  let logic: unknown = { '+': [{ var: '' }, 1] };
  for (let i = 0; i < 3; i++) logic = { map: [list, logic] };
  return logic;
}

describe('hostile input: CPU', () => {
  let hub: TestHub;
  let key: string;
  let receiver: Receiver;

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms,200ms' },
      { worker: true },
    );
    key = (await hub.workspace('hostile')).key;
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await hub?.close();
  });

  const createForm = (payload: object) =>
    hub.request({ method: 'POST', url: '/api/v2/forms', key, payload });
  const submit = (formId: string, payload: object | string) =>
    hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      headers: { 'content-type': 'application/json' },
      payload,
    });

  it('runs ^(a+)+$ on 31 a and a b in linear time: 422, no stall', async () => {
    const form = await createForm({
      title: 'Codes',
      fields: [{ key: 'code', type: 'text', pattern: '^(a+)+$' }],
    });
    expect(form.statusCode, form.body).toBe(201);
    const { result, stallMs } = await whileWatching(watchEventLoop(), () =>
      submit(form.json().id, { data: { code: `${'a'.repeat(31)}b` } }),
    );
    expect(expectError(result, 422, 'validation_failed')).toEqual([
      { field: 'code', message: 'must match the expected format' },
    ]);
    expect(stallMs).toBeLessThan(STALL_MS);
    const ok = await submit(form.json().id, { data: { code: 'aaaa' } });
    expect(ok.statusCode, ok.body).toBe(201);
  }, 60_000);

  it('refuses at save a pattern RE2 cannot run (backreference, lookahead), naming the field', async () => {
    const res = await createForm({
      title: 'Codes',
      fields: [
        { key: 'twice', type: 'text', pattern: '(a)\\1' },
        { key: 'ahead', type: 'text', pattern: '(?=a)a+' },
      ],
    });
    const details = expectError(res, 422, 'validation_failed');
    expect(details.map((d) => d.field)).toEqual(['fields[0].pattern', 'fields[1].pattern']);
    expect(details[0]!.message).toMatch(/^must be a valid regular expression in RE2 syntax/);
  });

  it('refuses at save three nested maps (a million steps) without running them unbounded', async () => {
    const logic = nestedMaps();
    expect(JSON.stringify(logic).length).toBeLessThan(2048);
    const { result, stallMs } = await whileWatching(watchEventLoop(), () =>
      createForm({
        title: 'Maps',
        fields: [{ key: 'a', type: 'text' }],
        calculated_fields: [{ key: 'm', logic }],
      }),
    );
    const details = expectError(result, 422, 'validation_failed');
    expect(details).toEqual([
      { field: 'calculated_fields[0].logic', message: expect.stringMatching(/operations/) },
    ]);
    expect(stallMs).toBeLessThan(STALL_MS);
  }, 60_000);

  it('refuses a 24-byte body whose calculated field would grow to 16 MiB: 422 naming it, no stall', async () => {
    // Accepted at save: with no answers it builds nothing. Each of 24 steps doubles the answer.
    const steps = Array.from({ length: 24 }, (_, i) => i);
    const logic = {
      reduce: [steps, { cat: [{ var: 'accumulator' }, { var: 'accumulator' }] }, { var: 'data.s' }],
    };
    const form = await createForm({
      title: 'Doubling',
      fields: [{ key: 's', type: 'text' }],
      calculated_fields: [{ key: 'big', logic }],
    });
    expect(form.statusCode, form.body).toBe(201);
    const body = '{"data":{"s":"0123456"}}';
    expect(Buffer.byteLength(body)).toBe(24);
    const { result, stallMs } = await whileWatching(watchEventLoop(), () =>
      submit(form.json().id, body),
    );
    expect(expectError(result, 422, 'validation_failed')).toEqual([
      { field: 'big', message: expect.any(String) },
    ]);
    expect(stallMs).toBeLessThan(STALL_MS);
    const { rows } = await hub.db.query('SELECT id FROM responses WHERE form_id = $1', [
      form.json().id,
    ]);
    expect(rows).toEqual([]);
  }, 60_000);

  it('refuses at save a calculated field of more than 10 KB or 32 levels, naming it', async () => {
    let deep: unknown = { var: 'data.a' };
    for (let i = 0; i < 20; i++) deep = { '+': [deep, 1] }; // 41 levels of JSON
    const res = await createForm({
      title: 'Big',
      fields: [{ key: 'a', type: 'integer' }],
      calculated_fields: [
        { key: 'long', logic: { cat: ['x'.repeat(11_000)] } },
        { key: 'deep', logic: deep },
      ],
    });
    expect(expectError(res, 422, 'validation_failed')).toEqual([
      { field: 'calculated_fields[0].logic', message: 'must be at most 10240 bytes as JSON' },
      { field: 'calculated_fields[1].logic', message: 'must not be nested deeper than 32 levels' },
    ]);
  });

  describe('templates', () => {
    const tags = Array.from({ length: 60 }, (_, i) => `t${i}`);
    let formId: string;

    beforeAll(async () => {
      const form = await createForm({
        title: 'Tags',
        fields: [{ key: 'tags', type: 'multiselect', options: tags }],
      });
      expect(form.statusCode, form.body).toBe(201);
      formId = form.json().id as string;
    });

    const createHook = (template: unknown) =>
      hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/webhooks`,
        key,
        payload: { url: receiver.url, events: ['response.submitted'], template },
      });

    it('refuses at save more than 4 nested sections or 64 KB of source, naming the field', async () => {
      expect(
        expectError(await createHook({ text: nestedSections(5, 'x') }), 422, 'validation_failed'),
      ).toEqual([{ field: 'template.text', message: 'must not nest more than 4 sections' }]);
      expect(
        expectError(await createHook({ text: 'x'.repeat(70_000) }), 422, 'validation_failed'),
      ).toEqual([{ field: 'template', message: 'must be at most 65536 bytes of template source' }]);
    });

    it('stops a rendering past 1 MiB (it would be 21.6 M characters): the attempt fails, clearly, no stall', async () => {
      const hook = await createHook({ text: nestedSections(3, 'x'.repeat(100)) });
      expect(hook.statusCode, hook.body).toBe(201);
      const { result, stallMs } = await whileWatching(watchEventLoop(), async () => {
        const res = await submit(formId, { data: { tags } });
        expect(res.statusCode, res.body).toBe(201);
        return settledDeliveries(hub, key, hook.json().id as string);
      });
      const [delivery] = result;
      expect(delivery!.status).toBe('dead');
      expect(delivery!.attempts).toHaveLength(1);
      expect(delivery!.attempts[0]!.error).toMatch(
        /larger than 1048576 characters \(1 MiB\); it was stopped/,
      );
      expect(receiver.requests).toHaveLength(0);
      expect(stallMs).toBeLessThan(STALL_MS);
    }, 60_000);
  });
});
