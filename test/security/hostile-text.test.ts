/**
 * Hostile text and JSON shapes (DESIGN.md 3a): U+0000 and unpaired surrogates anywhere,
 * which PostgreSQL refuses (they used to give 500s), and metadata past 16 KB or 16 levels
 * (10,000 levels overflowed the stack: a 500). Bodies are sent as raw JSON text, escapes
 * and all, exactly as an attacker's client would send them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api.ts';
import { ADMIN_KEY, startHub, type TestHub } from '../support/hub.ts';
import { watchEventLoop, whileWatching } from './loop-watch.ts';

const STALL_MS = 500;

/** The two kinds of unstorable text, as JSON escapes inside a string literal. */
const HOSTILE = [
  { name: 'U+0000', escape: '\\u0000', message: 'must not contain U+0000 (NUL)' },
  {
    name: 'a lone surrogate',
    escape: '\\ud800',
    message: 'must not contain an unpaired surrogate (it is not valid Unicode)',
  },
] as const;

describe('hostile input: text and shapes', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;

  beforeAll(async () => {
    hub = await startHub();
    key = (await hub.workspace('text')).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Text', fields: [{ key: 'name', type: 'text' }] },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id as string;
  });
  afterAll(async () => {
    await hub?.close();
  });

  /** Sends `body` as it is: a JSON text with escapes the server decodes. */
  const send = (method: 'POST' | 'PATCH', url: string, body: string, auth: string | null = key) =>
    hub.request({
      method,
      url,
      ...(auth ? { key: auth } : {}),
      headers: { 'content-type': 'application/json' },
      payload: body,
    });

  describe.each(HOSTILE)('$name', ({ escape, message }) => {
    it('in an answer (anonymous submission): 422 naming the field, nothing stored', async () => {
      const { result, stallMs } = await whileWatching(watchEventLoop(), () =>
        send('POST', `/api/v2/forms/${formId}/responses`, `{"data":{"name":"Ada${escape}"}}`, null),
      );
      expect(expectError(result, 422, 'validation_failed')).toEqual([
        { field: 'data.name', message },
      ]);
      expect(stallMs).toBeLessThan(STALL_MS);
    });

    it('in metadata, as a value or a key: 422 naming it', async () => {
      const url = `/api/v2/forms/${formId}/responses`;
      const value = await send('POST', url, `{"data":{},"metadata":{"utm":["x","${escape}"]}}`);
      expect(expectError(value, 422, 'validation_failed')).toEqual([
        { field: 'metadata.utm[1]', message },
      ]);
      const keyed = await send('POST', url, `{"data":{},"metadata":{"a${escape}":1}}`);
      expect(expectError(keyed, 422, 'validation_failed')).toEqual([
        { field: expect.stringMatching(/^metadata\./), message: `key ${message}` },
      ]);
    });

    it('in a form title and a field label: 422 naming them', async () => {
      const title = await send(
        'POST',
        '/api/v2/forms',
        `{"title":"T${escape}","fields":[{"key":"a","type":"text"}]}`,
      );
      expect(expectError(title, 422, 'validation_failed')).toEqual([{ field: 'title', message }]);
      const label = await send(
        'POST',
        '/api/v2/forms',
        `{"title":"T","fields":[{"key":"a","type":"text","label":"L${escape}"}]}`,
      );
      expect(expectError(label, 422, 'validation_failed')).toEqual([
        { field: 'fields[0].label', message },
      ]);
    });

    it('in a workspace name: 422', async () => {
      const res = await send('POST', '/api/v2/workspaces', `{"name":"W${escape}"}`, ADMIN_KEY);
      expect(expectError(res, 422, 'validation_failed')).toEqual([{ field: 'name', message }]);
    });

    it('in a continued response (PATCH): 422', async () => {
      const started = await send(
        'POST',
        `/api/v2/forms/${formId}/responses`,
        '{"data":{"name":"A"},"completed":false}',
      );
      expect(started.statusCode, started.body).toBe(201);
      const res = await send(
        'PATCH',
        `/api/v2/responses/${started.json().id}`,
        `{"data":{"name":"B${escape}"}}`,
      );
      expect(expectError(res, 422, 'validation_failed')).toEqual([{ field: 'data.name', message }]);
    });

    it('in a query parameter, raw or inside filter= JSON: 400 naming it', async () => {
      const raw = escape === '\\u0000' ? '%00' : '%ED%A0%80'; // the UTF-8 of U+D800, as a client may send it
      const listed = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${formId}/responses?fields=name${raw}`,
        key,
      });
      if (escape === '\\u0000') {
        expect(expectError(listed, 400, 'invalid_request')).toEqual([{ field: 'fields', message }]);
      } else {
        // Invalid UTF-8 in a URL decodes to U+FFFD, which is storable: refused as an unknown key.
        expectError(listed, 400, 'invalid_request');
      }
      const filter = encodeURIComponent(`{"name":{"$eq":"x${escape}"}}`);
      const filtered = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${formId}/responses?filter=${filter}`,
        key,
      });
      expect(expectError(filtered, 400, 'invalid_request')).toEqual([
        { field: 'filter.name.$eq', message },
      ]);
    });
  });

  it('accepts paired surrogates (an emoji) and other control characters', async () => {
    const res = await send(
      'POST',
      `/api/v2/forms/${formId}/responses`,
      '{"data":{"name":"Ada \\ud83d\\ude00 \\u0001"}}',
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data.name).toBe('Ada \u{1F600} \u0001');
  });

  it('refuses metadata 10,000 levels deep with a 422, not a 500, and no stall', async () => {
    const body = `{"data":{},"metadata":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const { result, stallMs } = await whileWatching(watchEventLoop(), () =>
      send('POST', `/api/v2/forms/${formId}/responses`, body, null),
    );
    const details = expectError(result, 422, 'validation_failed');
    expect(details).toHaveLength(1);
    expect(details[0]!.field).toMatch(/^metadata\.a\.a/);
    expect(details[0]!.message).toBe('must not be nested deeper than 64 levels');
    expect(stallMs).toBeLessThan(STALL_MS);
  });

  it('refuses metadata past 16 levels or 16 KB, and accepts it at the bounds', async () => {
    const url = `/api/v2/forms/${formId}/responses`;
    const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
    expect((await send('POST', url, `{"data":{},"metadata":${nested(16)}}`)).statusCode).toBe(201);
    expect(
      expectError(
        await send('POST', url, `{"data":{},"metadata":${nested(17)}}`),
        422,
        'validation_failed',
      ),
    ).toEqual([{ field: 'metadata', message: 'must not be nested deeper than 16 levels' }]);
    const sized = (bytes: number) =>
      JSON.stringify({ data: {}, metadata: { k: 'x'.repeat(bytes - 8) } });
    expect((await send('POST', url, sized(16 * 1024))).statusCode).toBe(201);
    expect(
      expectError(await send('POST', url, sized(16 * 1024 + 1)), 422, 'validation_failed'),
    ).toEqual([{ field: 'metadata', message: 'must be at most 16384 bytes as JSON' }]);
  });

  it('refuses metadata that a PATCH merge pushes past 16 KB', async () => {
    const half = JSON.stringify({ data: {}, completed: false, metadata: { a: 'x'.repeat(9000) } });
    const started = await send('POST', `/api/v2/forms/${formId}/responses`, half);
    expect(started.statusCode, started.body).toBe(201);
    const res = await send(
      'PATCH',
      `/api/v2/responses/${started.json().id}`,
      JSON.stringify({ metadata: { b: 'y'.repeat(9000) } }),
    );
    expect(expectError(res, 422, 'validation_failed')).toEqual([
      { field: 'metadata', message: 'must be at most 16384 bytes as JSON' },
    ]);
  });
});
