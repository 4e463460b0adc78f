import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/**
 * What fastify itself refuses (a path parameter too long, a URL that does not decode, no
 * such route, bad JSON, a wrong content type, a body too large) answers in the API's error
 * shape with DESIGN.md's codes; and ids are case-insensitive (section 3a): an upper-case
 * id is the same object, for caches as well.
 */
let hub: TestHub;
let ws: { id: string; key: string };

beforeAll(async () => {
  hub = await startHub();
  ws = await hub.workspace();
});

afterAll(() => hub?.close());

async function createForm(): Promise<string> {
  const res = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key: ws.key,
    payload: { title: 'T', fields: [{ key: 'q', type: 'text' }] },
  });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

const countResponses = async (formId: string): Promise<number> => {
  const { rows } = await hub.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM responses WHERE form_id = $1',
    [formId],
  );
  return Number(rows[0]?.n);
};

describe('framework errors in the error shape', () => {
  it('a path parameter of 200 characters: 414 invalid_request; no such route: 404 not_found', async () => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${'a'.repeat(200)}/schema`,
    });
    expectError(res, 414, 'invalid_request');
    expect(res.headers['x-request-id']).toBeTruthy();
    expectError(
      await hub.request({ method: 'GET', url: '/api/v2/no-such-thing' }),
      404,
      'not_found',
    );
    expectError(await hub.request({ method: 'PUT', url: '/healthz' }), 404, 'not_found');
  });

  it('a URL that does not decode: 400 invalid_request', async () => {
    expectError(
      await hub.request({ method: 'GET', url: '/api/v2/forms/%zz/schema' }),
      400,
      'invalid_request',
    );
  });

  it('bad JSON, an empty JSON body, a wrong content type, a body too large', async () => {
    const formId = await createForm();
    const url = `/api/v2/forms/${formId}/responses`;
    const json = { 'content-type': 'application/json' };
    expectError(
      await hub.request({ method: 'POST', url, headers: json, payload: '{"data": ' }),
      400,
      'invalid_request',
    );
    expectError(
      await hub.request({ method: 'POST', url, headers: json, payload: '' }),
      400,
      'invalid_request',
    );
    const proto = '{"data": {"q": "x"}, "__proto__": {"x": 1}}';
    expectError(
      await hub.request({ method: 'POST', url, headers: json, payload: proto }),
      400,
      'invalid_request',
    );
    const text = { 'content-type': 'text/plain' };
    expectError(
      await hub.request({ method: 'POST', url, headers: text, payload: 'hello' }),
      415,
      'unsupported_media_type',
    );
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expectError(
      await hub.request({ method: 'POST', url, headers: form, payload: 'q=x' }),
      415,
      'unsupported_media_type',
    );
    const garbled = { 'content-type': '{}' };
    expectError(
      await hub.request({ method: 'POST', url, headers: garbled, payload: '{}' }),
      415,
      'unsupported_media_type',
    );
    const big = JSON.stringify({ data: { q: 'x'.repeat(1024 * 1024 + 10) } });
    expectError(
      await hub.request({ method: 'POST', url, headers: json, payload: big }),
      413,
      'payload_too_large',
    );
    expect(await countResponses(formId)).toBe(0);
  });
});

describe('ids in any case', () => {
  it('a deleted form warmed under its upper-case id takes no submission', async () => {
    const formId = await createForm();
    const upper = formId.toUpperCase();
    expect(
      (await hub.request({ method: 'GET', url: `/api/v2/forms/${upper}/schema` })).statusCode,
    ).toBe(200);
    const submit = () =>
      hub.request({
        method: 'POST',
        url: `/api/v2/forms/${upper}/responses`,
        payload: { data: { q: 'x' } },
      });
    const first = await submit();
    expect(first.statusCode).toBe(201);
    expect(first.json().form_id).toBe(formId);
    expect(
      (await hub.request({ method: 'DELETE', url: `/api/v2/forms/${formId}`, key: ws.key }))
        .statusCode,
    ).toBe(204);
    expectError(
      await hub.request({ method: 'GET', url: `/api/v2/forms/${upper}/schema` }),
      404,
      'not_found',
    );
    expectError(await submit(), 404, 'not_found');
    expect(await countResponses(formId)).toBe(1);
  });

  it('an unpublished form warmed under a percent-encoded upper-case id takes no submission', async () => {
    const formId = await createForm();
    const encoded = formId
      .toUpperCase()
      .replace(/[A-F]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    expect(
      (await hub.request({ method: 'GET', url: `/api/v2/forms/${encoded}/schema` })).statusCode,
    ).toBe(200);
    const patch = await hub.request({
      method: 'PATCH',
      url: `/api/v2/forms/${formId}`,
      key: ws.key,
      payload: { status: 'draft' },
    });
    expect(patch.statusCode).toBe(200);
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${encoded}/responses`,
      payload: { data: { q: 'x' } },
    });
    expectError(res, 404, 'not_found');
    expect(await countResponses(formId)).toBe(0);
  });

  it('an upper-case id reads the same form, fresh after a change', async () => {
    const formId = await createForm();
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId.toUpperCase()}`,
      key: ws.key,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(formId);
    const after = await hub.request({
      method: 'PATCH',
      url: `/api/v2/forms/${formId}`,
      key: ws.key,
      payload: { title: 'Renamed' },
    });
    expect(after.statusCode).toBe(200);
    const again = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId.toUpperCase()}`,
      key: ws.key,
    });
    expect(again.json().title).toBe('Renamed');
  });
});
