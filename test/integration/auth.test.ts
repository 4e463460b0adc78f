import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, UUID_RE } from '../support/api.ts';
import { ADMIN_KEY, startHub, type TestHub } from '../support/hub.ts';

interface CreatedKey {
  id: string;
  name: string;
  key: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('authentication and workspace isolation', () => {
  let hub: TestHub;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  let formA: string;
  let responseA: string;

  beforeAll(async () => {
    hub = await startHub();
    a = await hub.workspace('A');
    b = await hub.workspace('B');
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: a.key,
      payload: { title: 'A form', fields: [{ key: 'name', type: 'text' }] },
    });
    expect(form.statusCode).toBe(201);
    formA = form.json().id as string;
    const response = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formA}/responses`,
      key: a.key,
      payload: { data: { name: 'secret of A' }, completed: false },
    });
    expect(response.statusCode).toBe(201);
    responseA = response.json().id as string;
  });
  afterAll(async () => hub.close());

  describe('bearer keys', () => {
    it('answers 401 with the error shape when no key is sent', async () => {
      const res = await hub.request({ method: 'GET', url: '/api/v2/forms' });
      const details = expectError(res, 401, 'unauthorized');
      expect(details).toEqual([]);
    });

    it.each([
      ['Basic dXNlcjpwYXNz'],
      ['Bearer'],
      ['Bearer '],
      ['Token fh_abc'],
      ['fh_abc'],
      ['Bearer two words'],
    ])('answers 401 to a malformed Authorization header %j', async (authorization) => {
      const res = await hub.request({
        method: 'GET',
        url: '/api/v2/forms',
        headers: { authorization },
      });
      expectError(res, 401, 'unauthorized');
    });

    it('answers 401 to an unknown key, with or without the fh_ prefix', async () => {
      for (const key of [
        'fh_notarealkey0000000000000000000000000000',
        'nope',
        `${a.key}x`,
        a.key.slice(0, -1),
      ]) {
        const res = await hub.request({ method: 'GET', url: '/api/v2/forms', key });
        expectError(res, 401, 'unauthorized');
      }
    });

    it('accepts the scheme case-insensitively, like HTTP says', async () => {
      const res = await hub.request({
        method: 'GET',
        url: '/api/v2/forms',
        headers: { authorization: `bearer ${a.key}` },
      });
      expect(res.statusCode).toBe(200);
    });

    it('answers 403 forbidden to the admin key on a workspace route', async () => {
      for (const [method, url] of [
        ['GET', '/api/v2/forms'],
        ['GET', '/api/v2/api-keys'],
        ['GET', `/api/v2/forms/${formA}`],
      ] as const) {
        const res = await hub.request({ method, url, key: ADMIN_KEY });
        expectError(res, 403, 'forbidden');
      }
    });

    it('answers 403 forbidden to a workspace key on POST /workspaces', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/workspaces',
        key: a.key,
        payload: { name: 'x' },
      });
      expectError(res, 403, 'forbidden');
      const { rows } = await hub.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM workspaces WHERE name = 'x'",
      );
      expect(Number(rows[0]?.n)).toBe(0);
    });

    it('answers 401 to POST /workspaces without a key', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/workspaces',
        payload: { name: 'x' },
      });
      expectError(res, 401, 'unauthorized');
    });

    it('lets the admin key create a workspace whose key works at once', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/workspaces',
        key: ADMIN_KEY,
        payload: { name: 'C' },
      });
      expect(res.statusCode).toBe(201);
      const body = res.json() as { id: string; name: string; api_key: string };
      expect(body).toEqual({
        id: expect.stringMatching(UUID_RE),
        name: 'C',
        api_key: expect.stringMatching(/^fh_/),
      });
      const forms = await hub.request({ method: 'GET', url: '/api/v2/forms', key: body.api_key });
      expect(forms.statusCode).toBe(200);
      expect(forms.json()).toEqual({ data: [], next_cursor: null });
    });
  });

  describe('another workspace answers 404, never 403', () => {
    it('a form', async () => {
      expectError(
        await hub.request({ method: 'GET', url: `/api/v2/forms/${formA}`, key: b.key }),
        404,
        'not_found',
      );
      const own = await hub.request({ method: 'GET', url: `/api/v2/forms/${formA}`, key: a.key });
      expect(own.statusCode).toBe(200);
    });

    it('changing or deleting a form', async () => {
      const patch = await hub.request({
        method: 'PATCH',
        url: `/api/v2/forms/${formA}`,
        key: b.key,
        payload: { title: 'hijacked' },
      });
      expectError(patch, 404, 'not_found');
      const del = await hub.request({
        method: 'DELETE',
        url: `/api/v2/forms/${formA}`,
        key: b.key,
      });
      expectError(del, 404, 'not_found');
      const own = await hub.request({ method: 'GET', url: `/api/v2/forms/${formA}`, key: a.key });
      expect(own.json()).toMatchObject({ title: 'A form', version: 1 });
    });

    it('a form is not listed to another workspace', async () => {
      const res = await hub.request({ method: 'GET', url: '/api/v2/forms', key: b.key });
      expect(res.statusCode).toBe(200);
      expect((res.json().data as { id: string }[]).map((f) => f.id)).not.toContain(formA);
    });

    it("a form's responses listing", async () => {
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/forms/${formA}/responses`,
        key: b.key,
      });
      expectError(res, 404, 'not_found');
      expect(res.body).not.toContain('secret of A');
    });

    it('a response: get, patch, delete', async () => {
      expectError(
        await hub.request({ method: 'GET', url: `/api/v2/responses/${responseA}`, key: b.key }),
        404,
        'not_found',
      );
      const patch = await hub.request({
        method: 'PATCH',
        url: `/api/v2/responses/${responseA}`,
        key: b.key,
        payload: { data: { name: 'overwritten' } },
      });
      expectError(patch, 404, 'not_found');
      expectError(
        await hub.request({ method: 'DELETE', url: `/api/v2/responses/${responseA}`, key: b.key }),
        404,
        'not_found',
      );
      const own = await hub.request({
        method: 'GET',
        url: `/api/v2/responses/${responseA}`,
        key: a.key,
      });
      expect(own.statusCode).toBe(200);
      expect(own.json().data).toEqual({ name: 'secret of A' });
    });

    it('importing into a form', async () => {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formA}/responses/import`,
        key: b.key,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify([{ data: { name: 'x' }, submitted_at: '2025-01-01T00:00:00Z' }]),
      });
      expectError(res, 404, 'not_found');
    });

    it('submitting with the key of another workspace, even to a published form', async () => {
      const res = await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formA}/responses`,
        key: b.key,
        payload: { data: { name: 'from B' } },
      });
      expectError(res, 404, 'not_found');
    });

    it('an API key of another workspace cannot be deleted', async () => {
      const created = await hub.request({
        method: 'POST',
        url: '/api/v2/api-keys',
        key: a.key,
        payload: { name: 'A2' },
      });
      const keyA2 = created.json() as CreatedKey;
      const res = await hub.request({
        method: 'DELETE',
        url: `/api/v2/api-keys/${keyA2.id}`,
        key: b.key,
      });
      expectError(res, 404, 'not_found');
      const still = await hub.request({ method: 'GET', url: '/api/v2/forms', key: keyA2.key });
      expect(still.statusCode).toBe(200);
      const listB = await hub.request({ method: 'GET', url: '/api/v2/api-keys', key: b.key });
      expect((listB.json().data as { id: string }[]).map((k) => k.id)).not.toContain(keyA2.id);
    });
  });

  describe('API keys', () => {
    it('creates a key, shown once, starting with fh_, stored only as its hash', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/api-keys',
        key: a.key,
        payload: { name: 'ci' },
      });
      expect(res.statusCode).toBe(201);
      const created = res.json() as CreatedKey;
      expect(created).toMatchObject({
        id: expect.stringMatching(UUID_RE),
        name: 'ci',
        key: expect.stringMatching(/^fh_/),
      });
      expect(created.key.length).toBeGreaterThanOrEqual(32);

      const { rows } = await hub.db.query<{ key_hash: string }>(
        'SELECT key_hash FROM api_keys WHERE id = $1',
        [created.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.key_hash).toBe(sha256(created.key));
      expect(rows[0]!.key_hash).not.toBe(created.key);
      // The key appears in no column of any key row.
      const leaked = await hub.db.query(
        'SELECT id FROM api_keys WHERE position($1 in api_keys::text) > 0',
        [created.key],
      );
      expect(leaked.rows).toEqual([]);

      const works = await hub.request({ method: 'GET', url: '/api/v2/forms', key: created.key });
      expect(works.statusCode).toBe(200);
      expect((works.json().data as { id: string }[]).map((f) => f.id)).toContain(formA);
    });

    it('lists keys without key material', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/api-keys',
        key: a.key,
        payload: { name: 'listed' },
      });
      const created = res.json() as CreatedKey;
      const list = await hub.request({ method: 'GET', url: '/api/v2/api-keys', key: a.key });
      expect(list.statusCode).toBe(200);
      const body = list.json() as { data: Record<string, unknown>[]; next_cursor: string | null };
      const entry = body.data.find((k) => k.id === created.id);
      expect(entry).toMatchObject({ id: created.id, name: 'listed' });
      for (const k of body.data) {
        expect(k).not.toHaveProperty('key');
        expect(k).not.toHaveProperty('key_hash');
        expect(k).not.toHaveProperty('api_key');
      }
      expect(list.body).not.toContain(created.key);
      expect(list.body).not.toContain(a.key);
      expect(list.body).not.toContain(sha256(created.key));
      // Only this workspace's keys: the default one and those made in this file.
      expect(body.data.length).toBeGreaterThanOrEqual(2);
      const listB = await hub.request({ method: 'GET', url: '/api/v2/api-keys', key: b.key });
      expect((listB.json().data as { id: string }[]).map((k) => k.id)).not.toContain(created.id);
    });

    it('rejects a key without a name with 422', async () => {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/api-keys',
        key: a.key,
        payload: {},
      });
      expectError(res, 422, 'validation_failed');
    });

    it('deletes a key (204); that key then answers 401 and is no longer listed', async () => {
      const created = (
        await hub.request({
          method: 'POST',
          url: '/api/v2/api-keys',
          key: a.key,
          payload: { name: 'doomed' },
        })
      ).json() as CreatedKey;
      expect(
        (await hub.request({ method: 'GET', url: '/api/v2/forms', key: created.key })).statusCode,
      ).toBe(200);

      const del = await hub.request({
        method: 'DELETE',
        url: `/api/v2/api-keys/${created.id}`,
        key: a.key,
      });
      expect(del.statusCode).toBe(204);
      expect(del.body).toBe('');

      expectError(
        await hub.request({ method: 'GET', url: '/api/v2/forms', key: created.key }),
        401,
        'unauthorized',
      );
      const list = await hub.request({ method: 'GET', url: '/api/v2/api-keys', key: a.key });
      expect((list.json().data as { id: string }[]).map((k) => k.id)).not.toContain(created.id);
      // Deleting it again, or an unknown or malformed id: 404.
      expectError(
        await hub.request({ method: 'DELETE', url: `/api/v2/api-keys/${created.id}`, key: a.key }),
        404,
        'not_found',
      );
      expectError(
        await hub.request({
          method: 'DELETE',
          url: '/api/v2/api-keys/00000000-0000-7000-8000-000000000000',
          key: a.key,
        }),
        404,
        'not_found',
      );
      expectError(
        await hub.request({ method: 'DELETE', url: '/api/v2/api-keys/not-a-uuid', key: a.key }),
        404,
        'not_found',
      );
      // The workspace's other keys still work.
      expect(
        (await hub.request({ method: 'GET', url: '/api/v2/forms', key: a.key })).statusCode,
      ).toBe(200);
    });

    it('a key can delete itself, and is refused afterwards', async () => {
      const created = (
        await hub.request({
          method: 'POST',
          url: '/api/v2/api-keys',
          key: a.key,
          payload: { name: 'self' },
        })
      ).json() as CreatedKey;
      const del = await hub.request({
        method: 'DELETE',
        url: `/api/v2/api-keys/${created.id}`,
        key: created.key,
      });
      expect(del.statusCode).toBe(204);
      expectError(
        await hub.request({ method: 'GET', url: '/api/v2/api-keys', key: created.key }),
        401,
        'unauthorized',
      );
    });

    it('pages through keys with a cursor, newest first', async () => {
      const ws = await hub.workspace('paging keys');
      const made: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await hub.request({
          method: 'POST',
          url: '/api/v2/api-keys',
          key: ws.key,
          payload: { name: `k${i}` },
        });
        made.push((res.json() as CreatedKey).id);
        await new Promise((r) => setTimeout(r, 2));
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/v2/api-keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await hub.request({ method: 'GET', url, key: ws.key });
        expect(res.statusCode).toBe(200);
        const body = res.json() as { data: { id: string }[]; next_cursor: string | null };
        expect(body.data.length).toBeLessThanOrEqual(2);
        seen.push(...body.data.map((k) => k.id));
        cursor = body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(2);
      expect(new Set(seen).size).toBe(4);
      expect(seen.slice(0, 3)).toEqual([...made].reverse());
    });
  });
});
