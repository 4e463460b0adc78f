import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf, sleep, UUID_RE } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

interface Form {
  id: string;
  title: string;
  description: string | null;
  status: 'draft' | 'published';
  version: number;
  fields: Record<string, unknown>[];
  calculated_fields: { key: string; logic: unknown }[];
  created_at: string;
  updated_at: string;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('forms', () => {
  let hub: TestHub;
  let ws: { id: string; key: string };

  const create = (payload: unknown, key = ws.key) =>
    hub.request({ method: 'POST', url: '/api/v2/forms', key, payload: payload as object });
  const createForm = async (payload: object): Promise<Form> => {
    const res = await create(payload);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Form;
  };
  const schemaOf = (id: string, headers: Record<string, string> = {}) =>
    hub.request({ method: 'GET', url: `/api/v2/forms/${id}/schema`, headers });

  beforeAll(async () => {
    hub = await startHub();
    ws = await hub.workspace('forms');
  });
  afterAll(async () => hub.close());

  describe('create', () => {
    it('creates a form with the defaults: published, version 1', async () => {
      const res = await create({
        title: 'Contact',
        fields: [{ key: 'email', type: 'email', required: true }],
      });
      expect(res.statusCode).toBe(201);
      const form = res.json() as Form;
      expect(form).toEqual({
        id: expect.stringMatching(UUID_RE),
        title: 'Contact',
        description: null,
        status: 'published',
        version: 1,
        fields: [{ key: 'email', type: 'email', required: true }],
        calculated_fields: [],
        created_at: expect.stringMatching(ISO_UTC),
        updated_at: expect.stringMatching(ISO_UTC),
      });
      const got = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
      });
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual(form);
      const { rows } = await hub.db.query<{ workspace_id: string; version: number }>(
        'SELECT workspace_id, version FROM forms WHERE id = $1',
        [form.id],
      );
      expect(rows).toEqual([{ workspace_id: ws.id, version: 1 }]);
    });

    it('keeps description, status, every field property and calculated fields', async () => {
      const fields = [
        {
          key: 'first',
          type: 'text',
          label: 'First name',
          required: true,
          max_length: 40,
          pattern: '[A-Za-z ]+',
        },
        { key: 'age', type: 'integer', min: 0, max: 150 },
        { key: 'dept', type: 'select', options: ['IT', 'HR'] },
        { key: 'stars', type: 'rating', max: 10 },
      ];
      const calculated = [{ key: 'shout', logic: { cat: [{ var: 'data.first' }, '!'] } }];
      const form = await createForm({
        title: 'Full',
        description: 'All of it',
        status: 'draft',
        fields,
        calculated_fields: calculated,
      });
      expect(form).toMatchObject({
        title: 'Full',
        description: 'All of it',
        status: 'draft',
        version: 1,
      });
      expect(form.fields).toEqual(fields);
      expect(form.calculated_fields).toEqual(calculated);
    });

    it('accepts a form with no fields', async () => {
      const form = await createForm({ title: 'Empty', fields: [] });
      expect(form.fields).toEqual([]);
    });
  });

  describe('definition errors: 422 naming fields[i].x', () => {
    it.each([
      [
        'duplicate keys',
        [
          { key: 'a', type: 'text' },
          { key: 'a', type: 'number' },
        ],
        undefined,
        'fields[1].key',
      ],
      ['a key starting with a digit', [{ key: '1abc', type: 'text' }], undefined, 'fields[0].key'],
      ['a key with a dash', [{ key: 'first-name', type: 'text' }], undefined, 'fields[0].key'],
      [
        'a key of 65 characters',
        [{ key: 'a'.repeat(65), type: 'text' }],
        undefined,
        'fields[0].key',
      ],
      [
        'a select without options',
        [{ key: 'dept', type: 'select' }],
        undefined,
        'fields[0].options',
      ],
      [
        'a radio with empty options',
        [{ key: 'size', type: 'radio', options: [] }],
        undefined,
        'fields[0].options',
      ],
      [
        'a multiselect with duplicate options',
        [{ key: 't', type: 'multiselect', options: ['a', 'a'] }],
        undefined,
        'fields[0].options',
      ],
      [
        'a pattern that does not compile',
        [{ key: 'code', type: 'text', pattern: '([a-z' }],
        undefined,
        'fields[0].pattern',
      ],
      [
        'min greater than max',
        [{ key: 'n', type: 'number', min: 10, max: 1 }],
        undefined,
        'fields[0].min',
      ],
      [
        'bad json-logic in a calculated field',
        [{ key: 'a', type: 'number' }],
        [{ key: 'c', logic: { no_such_operator: [{ var: 'data.a' }] } }],
        'calculated_fields[0].logic',
      ],
      [
        'a calculated field with a field key',
        [{ key: 'a', type: 'number' }],
        [{ key: 'a', logic: { '+': [1, 1] } }],
        'calculated_fields[0].key',
      ],
    ])('%s', async (_name, fields, calculated, field) => {
      const res = await create({
        title: 'Bad',
        fields,
        ...(calculated ? { calculated_fields: calculated } : {}),
      });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details)).toEqual([field]);
    });

    it('reports every problem at once, one detail per place', async () => {
      const res = await create({
        title: 'Bad',
        fields: [
          { key: 'ok', type: 'text' },
          { key: 'ok', type: 'text' },
          { key: 'dept', type: 'select' },
          { key: 'code', type: 'text', pattern: '(' },
        ],
        calculated_fields: [{ key: 'c', logic: { nope: [] } }],
      });
      const details = expectError(res, 422, 'validation_failed');
      expect(fieldsOf(details).sort()).toEqual(
        [
          'calculated_fields[0].logic',
          'fields[1].key',
          'fields[2].options',
          'fields[3].pattern',
        ].sort(),
      );
    });

    it('stores nothing when the definition is refused', async () => {
      const ws2 = await hub.workspace('refused');
      await create({ title: 'Bad', fields: [{ key: 'dept', type: 'select' }] }, ws2.key);
      const { rows } = await hub.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM forms WHERE workspace_id = $1',
        [ws2.id],
      );
      expect(Number(rows[0]?.n)).toBe(0);
    });
  });

  describe('body shape errors: 422', () => {
    it.each([
      ['no title', { fields: [] }, 'title'],
      ['an empty title', { title: '', fields: [] }, 'title'],
      ['no fields', { title: 'T' }, 'fields'],
      ['fields not a list of objects', { title: 'T', fields: [1] }, 'fields[0]'],
      [
        'an unknown field type',
        { title: 'T', fields: [{ key: 'a', type: 'colour' }] },
        'fields[0].type',
      ],
      ['a field without a key', { title: 'T', fields: [{ type: 'text' }] }, 'fields[0].key'],
      ['an unknown status', { title: 'T', status: 'archived', fields: [] }, 'status'],
    ])('%s', async (_name, payload, field) => {
      const details = expectError(await create(payload), 422, 'validation_failed');
      expect(fieldsOf(details)).toContain(field);
    });

    it('an unknown property in a field (a typo) is refused, not silently dropped', async () => {
      const res = await create({
        title: 'Typo',
        fields: [{ key: 'email', type: 'email', requried: true }],
      });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['fields[0].requried']);
    });

    it('an unknown top-level property is refused', async () => {
      const res = await create({ title: 'Typo', fields: [], stauts: 'draft' });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['stauts']);
    });

    it('a body that is not an object', async () => {
      expectError(await create([{ title: 'T', fields: [] }]), 422, 'validation_failed');
    });

    it('bad JSON is 400 invalid_request', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key: ws.key,
        headers: { 'content-type': 'application/json' },
        payload: '{"title": "T", "fields": [',
      });
      expectError(res, 400, 'invalid_request');
    });
  });

  describe('get and list', () => {
    it('answers 404 to an unknown or malformed id', async () => {
      for (const id of ['00000000-0000-7000-8000-000000000000', 'nope', '1']) {
        expectError(
          await hub.request({ method: 'GET', url: `/api/v2/forms/${id}`, key: ws.key }),
          404,
          'not_found',
        );
      }
    });

    it('pages through 5 forms two at a time, newest first, without duplicates', async () => {
      const other = await hub.workspace('paging');
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await create({ title: `Form ${i}`, fields: [] }, other.key);
        expect(res.statusCode).toBe(201);
        made.push((res.json() as Form).id);
        await sleep(2); // distinct creation times, so "newest first" has one answer
      }
      const seen: Form[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const url: string = `/api/v2/forms?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await hub.request({ method: 'GET', url, key: other.key });
        expect(res.statusCode).toBe(200);
        const page = res.json() as Page<Form>;
        pageSizes.push(page.data.length);
        seen.push(...page.data);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      expect(pageSizes).toEqual([2, 2, 1]);
      expect(seen.map((f) => f.id)).toEqual([...made].reverse());
      expect(seen.map((f) => f.title)).toEqual(['Form 4', 'Form 3', 'Form 2', 'Form 1', 'Form 0']);
      expect(new Set(seen.map((f) => f.id)).size).toBe(5);
      // Without a limit, all on one page with no cursor.
      const all = (
        await hub.request({ method: 'GET', url: '/api/v2/forms', key: other.key })
      ).json() as Page<Form>;
      expect(all.data.map((f) => f.id)).toEqual([...made].reverse());
      expect(all.next_cursor).toBeNull();
    });

    it('pages 50 forms by default', async () => {
      const many = await hub.workspace('many');
      for (let i = 0; i < 51; i++)
        expect((await create({ title: `F${i}`, fields: [] }, many.key)).statusCode).toBe(201);
      const first = (
        await hub.request({ method: 'GET', url: '/api/v2/forms', key: many.key })
      ).json() as Page<Form>;
      expect(first.data).toHaveLength(50);
      expect(first.next_cursor).toEqual(expect.any(String));
      const url = `/api/v2/forms?cursor=${encodeURIComponent(first.next_cursor!)}`;
      const rest = (await hub.request({ method: 'GET', url, key: many.key })).json() as Page<Form>;
      expect(rest.data).toHaveLength(1);
      expect(rest.next_cursor).toBeNull();
      expect(first.data.map((f) => f.id)).not.toContain(rest.data[0]!.id);
    });

    it('answers 400 to a bad cursor or limit', async () => {
      for (const query of ['cursor=garbage', 'limit=0', 'limit=1001', 'limit=abc']) {
        expectError(
          await hub.request({ method: 'GET', url: `/api/v2/forms?${query}`, key: ws.key }),
          400,
          'invalid_request',
        );
      }
    });
  });

  describe('update and delete', () => {
    it('PATCH bumps the version and changes the public schema', async () => {
      const form = await createForm({ title: 'Before', fields: [{ key: 'a', type: 'text' }] });
      const before = await schemaOf(form.id);
      expect(before.statusCode).toBe(200);
      expect(before.json()).toMatchObject({ title: 'Before', version: 1 });
      await sleep(2);

      const res = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
        payload: {
          title: 'After',
          fields: [
            { key: 'a', type: 'text' },
            { key: 'b', type: 'boolean', required: true },
          ],
        },
      });
      expect(res.statusCode).toBe(200);
      const updated = res.json() as Form;
      expect(updated).toMatchObject({
        id: form.id,
        title: 'After',
        version: 2,
        status: 'published',
      });
      expect(updated.fields.map((f) => f.key)).toEqual(['a', 'b']);
      expect(updated.created_at).toBe(form.created_at);
      expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(form.updated_at));

      const after = await schemaOf(form.id);
      expect(after.statusCode).toBe(200);
      expect(after.json()).toMatchObject({ title: 'After', version: 2 });
      expect((after.json().fields as { key: string }[]).map((f) => f.key)).toEqual(['a', 'b']);
      const got = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
      });
      expect(got.json()).toEqual(updated);

      const again = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
        payload: { description: 'd' },
      });
      expect(again.json()).toMatchObject({ version: 3, title: 'After', description: 'd' });
    });

    it('PATCH with a bad definition is 422 and changes nothing', async () => {
      const form = await createForm({ title: 'Stable', fields: [{ key: 'a', type: 'text' }] });
      const res = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
        payload: {
          fields: [
            { key: 'a', type: 'text' },
            { key: 'a', type: 'text' },
          ],
        },
      });
      expect(fieldsOf(expectError(res, 422, 'validation_failed'))).toEqual(['fields[1].key']);
      const empty = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
        payload: {},
      });
      expectError(empty, 422, 'validation_failed');
      const got = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
      });
      expect(got.json()).toEqual(form);
    });

    it('PATCH of an unknown form is 404', async () => {
      const res = await hub.request({
        method: 'PATCH',
        url: '/api/v2/forms/00000000-0000-7000-8000-000000000000',
        key: ws.key,
        payload: { title: 'x' },
      });
      expectError(res, 404, 'not_found');
    });

    it('DELETE answers 204, then the form is 404 everywhere', async () => {
      const form = await createForm({ title: 'Doomed', fields: [{ key: 'a', type: 'text' }] });
      const del = await hub.request({
        method: 'DELETE',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
      });
      expect(del.statusCode).toBe(204);
      expect(del.body).toBe('');
      expectError(
        await hub.request({ method: 'GET', url: `/api/v2/forms/${form.id}`, key: ws.key }),
        404,
        'not_found',
      );
      expectError(
        await hub.request({ method: 'DELETE', url: `/api/v2/forms/${form.id}`, key: ws.key }),
        404,
        'not_found',
      );
      expectError(
        await hub.request({
          method: 'PATCH',
          url: `/api/v2/forms/${form.id}`,
          key: ws.key,
          payload: { title: 'x' },
        }),
        404,
        'not_found',
      );
      expectError(await schemaOf(form.id), 404, 'not_found');
      const sub = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${form.id}/responses`,
        payload: { data: { a: 'x' } },
      });
      expectError(sub, 404, 'not_found');
      const list = (
        await hub.request({ method: 'GET', url: '/api/v2/forms?limit=1000', key: ws.key })
      ).json() as Page<Form>;
      expect(list.data.map((f) => f.id)).not.toContain(form.id);
    });
  });

  describe('public schema', () => {
    it('serves a published form without a key: title, description, fields, version', async () => {
      const form = await createForm({
        title: 'Public',
        description: 'Tell us',
        fields: [{ key: 'q', type: 'radio', options: ['y', 'n'], required: true }],
        calculated_fields: [{ key: 'c', logic: { var: 'data.q' } }],
      });
      const res = await schemaOf(form.id);
      expect(res.statusCode).toBe(200);
      const body = res.json() as Record<string, unknown>;
      expect(body).toMatchObject({
        title: 'Public',
        description: 'Tell us',
        version: 1,
        fields: form.fields,
      });
      expect(body).not.toHaveProperty('workspace_id');
      expect(res.body).not.toContain(ws.id);
    });

    it('answers 404 for a draft, an unknown id and a non-uuid id', async () => {
      const draft = await createForm({ title: 'Draft', status: 'draft', fields: [] });
      expectError(await schemaOf(draft.id), 404, 'not_found');
      expectError(await schemaOf('00000000-0000-7000-8000-000000000000'), 404, 'not_found');
      expectError(await schemaOf('not-a-uuid'), 404, 'not_found');
      expectError(await schemaOf("1' OR '1'='1"), 404, 'not_found');
    });

    it('publishing a draft makes its schema public; unpublishing hides it again', async () => {
      const draft = await createForm({ title: 'Later', status: 'draft', fields: [] });
      expectError(await schemaOf(draft.id), 404, 'not_found');
      const pub = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${draft.id}`,
        key: ws.key,
        payload: { status: 'published' },
      });
      expect(pub.json()).toMatchObject({ status: 'published', version: 2 });
      const res = await schemaOf(draft.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ title: 'Later', version: 2 });
      await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${draft.id}`,
        key: ws.key,
        payload: { status: 'draft' },
      });
      expectError(await schemaOf(draft.id), 404, 'not_found');
    });

    it('sends ETag and Cache-Control, and 304 with an empty body to a matching If-None-Match', async () => {
      const form = await createForm({ title: 'Cached', fields: [{ key: 'a', type: 'text' }] });
      const first = await schemaOf(form.id);
      expect(first.statusCode).toBe(200);
      const etag = first.headers.etag;
      expect(typeof etag).toBe('string');
      expect(etag).toMatch(/^(W\/)?".+"$/);
      expect(first.headers['cache-control']).toEqual(expect.any(String));
      expect(String(first.headers['cache-control']).length).toBeGreaterThan(0);

      const again = await schemaOf(form.id);
      expect(again.headers.etag).toBe(etag);

      const cached = await schemaOf(form.id, { 'if-none-match': etag as string });
      expect(cached.statusCode).toBe(304);
      expect(cached.body).toBe('');
      expect(cached.headers.etag).toBe(etag);

      const listed = await schemaOf(form.id, {
        'if-none-match': `"something-else", ${etag as string}`,
      });
      expect(listed.statusCode).toBe(304);

      const other = await schemaOf(form.id, { 'if-none-match': '"something-else"' });
      expect(other.statusCode).toBe(200);
      expect(other.json()).toMatchObject({ title: 'Cached' });
    });

    it('a stale ETag after PATCH gets 200 with the new schema and a new ETag', async () => {
      const form = await createForm({ title: 'Old', fields: [{ key: 'a', type: 'text' }] });
      const first = await schemaOf(form.id);
      const etag = first.headers.etag as string;
      const patched = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${form.id}`,
        key: ws.key,
        payload: { title: 'New' },
      });
      expect(patched.statusCode).toBe(200);

      const res = await schemaOf(form.id, { 'if-none-match': etag });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ title: 'New', version: 2 });
      const newEtag = res.headers.etag as string;
      expect(newEtag).toBeDefined();
      expect(newEtag).not.toBe(etag);
      expect((await schemaOf(form.id, { 'if-none-match': newEtag })).statusCode).toBe(304);
    });
  });
});
