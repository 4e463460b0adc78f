import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

type Flat = Record<string, unknown>;

const FIELDS = [
  { key: 'name', type: 'text', label: 'Full name', required: true },
  { key: 'email', type: 'email', label: 'Email address' },
  { key: 'notes', type: 'textarea' },
  { key: 'age', type: 'integer', label: 'Age' },
  { key: 'score', type: 'number', label: 'Score' },
  { key: 'stars', type: 'rating', label: 'Stars', max: 5 },
  { key: 'subscribed', type: 'boolean', label: 'Subscribed?' },
  { key: 'born', type: 'date', label: 'Birthday' },
  { key: 'seen', type: 'datetime', label: 'Last seen' },
  { key: 'department', type: 'select', label: 'Department', options: ['IT', 'HR', 'Sales'] },
  { key: 'tags', type: 'multiselect', label: 'Tags', options: ['a', 'b', 'Mixed'] },
];

describe('Zapier fields and "Find Response"', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  /** The ids of the imported rows by name, and their flat shape as the hook delivers it. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    hub = await startHub();
    ({ key } = await hub.workspace('Lookup workspace'));
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: {
        title: 'Lookup form',
        fields: FIELDS,
        calculated_fields: [{ key: 'shout', logic: { cat: [{ var: 'data.name' }, '!'] } }],
      },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id;
    // Imported rows carry their own submitted_at: "newest first" is then a known order.
    const rows = [
      { name: 'Ada', email: 'Ada@Example.com', age: 36, score: 36.5, subscribed: true },
      { name: 'Grace', email: 'grace@example.com', age: 85, score: 7, subscribed: false },
      { name: 'Alan', age: 41, stars: 5, born: '1912-06-23', tags: ['a', 'Mixed'] },
      { name: 'Edsger', seen: '2026-01-15T10:00:00+01:00', department: 'IT', tags: ['b'] },
      { name: 'ada', notes: 'Ada again', department: 'HR', tags: ['a'] },
    ].map((data, i) => ({ data, submitted_at: `2026-01-0${i + 1}T12:00:00Z` }));
    const imported = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      payload: rows,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const list = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/responses?limit=100`,
      key,
    });
    for (const r of list.json().data as { id: string; data: { name: string } }[])
      ids[r.data.name] = r.id;
    expect(Object.keys(ids)).toHaveLength(5);
  });

  afterAll(async () => {
    await hub?.close();
  });

  const find = (field: string, value: string, k = key, form = formId) =>
    hub.request({
      method: 'GET',
      url: `/api/v2/zapier/forms/${form}/responses`,
      query: { field, value },
      key: k,
    });

  /** The names of the responses a search finds, in the order it answers them. */
  async function names(field: string, value: string): Promise<string[]> {
    const res = await find(field, value);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as Flat[]).map((r) => r.name as string);
  }

  it('GET /zapier/forms/:id/fields lists key, label and type in form order, then calculated', async () => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/zapier/forms/${formId}/fields`,
      key,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([
      { key: 'name', label: 'Full name', type: 'text' },
      { key: 'email', label: 'Email address', type: 'email' },
      { key: 'notes', label: 'notes', type: 'textarea' },
      { key: 'age', label: 'Age', type: 'integer' },
      { key: 'score', label: 'Score', type: 'number' },
      { key: 'stars', label: 'Stars', type: 'rating' },
      { key: 'subscribed', label: 'Subscribed?', type: 'boolean' },
      { key: 'born', label: 'Birthday', type: 'date' },
      { key: 'seen', label: 'Last seen', type: 'datetime' },
      { key: 'department', label: 'Department', type: 'select' },
      { key: 'tags', label: 'Tags', type: 'multiselect' },
      { key: 'shout', label: 'shout', type: 'calculated' },
    ]);
  });

  it('finds responses flat, in the shape of the hook, newest first', async () => {
    const res = await find('name', 'ada');
    expect(res.statusCode, res.body).toBe(200);
    const found = res.json() as Flat[];
    expect(found.map((r) => r.id)).toEqual([ids.ada, ids.Ada]);
    expect(Object.keys(found[1]!).slice(0, 3)).toEqual(['id', 'form_id', 'submitted_at']);
    expect(found[1]).toEqual({
      id: ids.Ada,
      form_id: formId,
      submitted_at: '2026-01-01T12:00:00.000Z',
      name: 'Ada',
      email: 'Ada@Example.com',
      age: 36,
      score: 36.5,
      subscribed: true,
      shout: 'Ada!',
    });
  });

  it('text matches the whole answer, whatever the case', async () => {
    expect(await names('email', 'ada@example.COM')).toEqual(['Ada']);
    expect(await names('email', 'example.com')).toEqual([]);
    expect(await names('notes', 'ADA AGAIN')).toEqual(['ada']);
    expect(await names('name', 'Ad')).toEqual([]);
    expect(await names('shout', 'GRACE!')).toEqual(['Grace']);
  });

  it('numbers match by value, booleans by their words', async () => {
    expect(await names('age', '36')).toEqual(['Ada']);
    expect(await names('age', ' 41.0 ')).toEqual(['Alan']);
    expect(await names('score', '36.50')).toEqual(['Ada']);
    expect(await names('score', '7')).toEqual(['Grace']);
    expect(await names('stars', '5')).toEqual(['Alan']);
    expect(await names('subscribed', 'true')).toEqual(['Ada']);
    expect(await names('subscribed', 'No')).toEqual(['Grace']);
    expect(await names('subscribed', '1')).toEqual(['Ada']);
  });

  it('a multiselect matches when its list holds the option; options in any case', async () => {
    expect(await names('tags', 'a')).toEqual(['ada', 'Alan']);
    expect(await names('tags', 'mixed')).toEqual(['Alan']);
    expect(await names('tags', 'b')).toEqual(['Edsger']);
    expect(await names('tags', 'c')).toEqual([]);
    expect(await names('department', 'it')).toEqual(['Edsger']);
    expect(await names('department', 'hr')).toEqual(['ada']);
  });

  it('dates match the day, date-times the instant', async () => {
    expect(await names('born', '1912-06-23')).toEqual(['Alan']);
    expect(await names('born', '1912-06-23T08:00:00Z')).toEqual(['Alan']);
    expect(await names('seen', '2026-01-15T09:00:00Z')).toEqual(['Edsger']);
    expect(await names('seen', '2026-01-15T10:00:00Z')).toEqual([]);
  });

  it('answers at most 10, and only completed, live responses', async () => {
    const other = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Many', fields: [{ key: 'team', type: 'text' }] },
    });
    const many = other.json().id as string;
    const rows = Array.from({ length: 12 }, (_, i) => ({
      data: { team: 'Blue' },
      submitted_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    }));
    const imported = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${many}/responses/import`,
      key,
      payload: rows,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const partial = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${many}/responses`,
      key,
      payload: { data: { team: 'blue' }, completed: false },
    });
    expect(partial.statusCode, partial.body).toBe(201);
    const res = await find('team', 'BLUE', key, many);
    expect(res.statusCode, res.body).toBe(200);
    const found = res.json() as Flat[];
    expect(found).toHaveLength(10);
    expect(found.map((r) => r.id)).not.toContain(partial.json().id);
    const stamps = found.map((r) => r.submitted_at as string);
    expect(stamps).toEqual([...stamps].sort().reverse());
    expect(stamps[0]).toBe('2026-01-01T00:11:00.000Z');

    const gone = found[0]!.id as string;
    const deleted = await hub.request({ method: 'DELETE', url: `/api/v2/responses/${gone}`, key });
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    const after = (await find('team', 'blue', key, many)).json() as Flat[];
    expect(after.map((r) => r.id)).not.toContain(gone);
    expect(after).toHaveLength(10);
  });

  it('422 names `field` for a key the form lacks, `value` for a value of the wrong type', async () => {
    expect(fieldsOf(expectError(await find('nope', 'x'), 422, 'validation_failed'))).toEqual([
      'field',
    ]);
    expect(fieldsOf(expectError(await find('id', 'x'), 422, 'validation_failed'))).toEqual([
      'field',
    ]);
    for (const [field, value] of [
      ['age', 'forty'],
      ['age', '1e999'],
      ['subscribed', 'maybe'],
      ['born', 'June'],
      ['seen', 'yesterday'],
    ] as const) {
      const details = expectError(await find(field, value), 422, 'validation_failed');
      expect(fieldsOf(details), `${field}=${value}`).toEqual(['value']);
    }
    expectError(
      await hub.request({
        method: 'GET',
        url: `/api/v2/zapier/forms/${formId}/responses?field=name`,
        key,
      }),
      400,
      'invalid_request',
    );
  });

  it("another workspace's form answers 404; no key answers 401", async () => {
    const other = await hub.workspace('Other');
    expectError(await find('name', 'Ada', other.key), 404, 'not_found');
    expectError(
      await hub.request({
        method: 'GET',
        url: `/api/v2/zapier/forms/${formId}/fields`,
        key: other.key,
      }),
      404,
      'not_found',
    );
    expectError(
      await hub.request({ method: 'GET', url: `/api/v2/zapier/forms/${formId}/fields` }),
      401,
      'unauthorized',
    );
    expectError(
      await find('name', 'Ada', key, '0192f0c0-0000-7000-8000-000000000000'),
      404,
      'not_found',
    );
  });

  it('the OpenAPI document describes both routes', async () => {
    const res = await hub.request({ method: 'GET', url: '/api/v2/openapi.json' });
    const paths = res.json().paths as Record<string, Record<string, { parameters?: unknown[] }>>;
    const fields = paths['/api/v2/zapier/forms/{id}/fields']?.get;
    const search = paths['/api/v2/zapier/forms/{id}/responses']?.get;
    expect(fields).toBeDefined();
    expect(search).toBeDefined();
    expect(JSON.stringify(search!.parameters)).toContain('"value"');
    expect(JSON.stringify(res.json().paths['/api/v2/zapier/hooks'].post)).toContain(
      'response.updated',
    );
  });
});
