import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

const FORM = { title: 'Cached', fields: [{ key: 'name', type: 'text', required: true }] };

/** The value of one cache counter in the hub's Prometheus text. */
function counter(metrics: string, name: string, cache: string, layer: string): number {
  const line = metrics
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}{`) &&
        l.includes(`cache="${cache}"`) &&
        l.includes(`layer="${layer}"`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('cached routes and cached reads', () => {
  let hub: TestHub;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  let formA: { id: string; version: number };

  beforeAll(async () => {
    hub = await startHub();
    a = await hub.workspace('A');
    b = await hub.workspace('B');
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: a.key,
      payload: FORM,
    });
    formA = res.json();
  });
  afterAll(() => hub?.close());

  it("never answers one workspace with another's cached answer", async () => {
    const first = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formA.id}`,
      key: a.key,
    });
    const again = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formA.id}`,
      key: a.key,
    });
    expect(first.headers['x-cache']).toBe('miss');
    expect(again.headers['x-cache']).toBe('hit');
    expect(again.json()).toEqual(first.json());

    const other = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formA.id}`,
      key: b.key,
    });
    expect(other.statusCode).toBe(404);
    const listA = await hub.request({ method: 'GET', url: '/api/v2/forms', key: a.key });
    const listB = await hub.request({ method: 'GET', url: '/api/v2/forms', key: b.key });
    await hub.request({ method: 'GET', url: '/api/v2/forms', key: b.key }); // B's own cached list
    expect((listA.json() as { data: unknown[] }).data).toHaveLength(1);
    expect((listB.json() as { data: unknown[] }).data).toHaveLength(0);
    const unauthenticated = await hub.request({ method: 'GET', url: `/api/v2/forms/${formA.id}` });
    expect(unauthenticated.statusCode).toBe(401);
  });

  it('answers 304 to a matching If-None-Match, and a new ETag after a PATCH', async () => {
    const url = `/api/v2/forms/${formA.id}`;
    const res = await hub.request({ method: 'GET', url, key: a.key });
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const notModified = await hub.request({
      method: 'GET',
      url,
      key: a.key,
      headers: { 'if-none-match': etag },
    });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');

    const patched = await hub.request({
      method: 'PATCH',
      url,
      key: a.key,
      payload: { title: 'Renamed' },
    });
    expect(patched.statusCode).toBe(200);
    const after = await hub.request({
      method: 'GET',
      url,
      key: a.key,
      headers: { 'if-none-match': etag },
    });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json()).toMatchObject({ title: 'Renamed', version: formA.version + 1 });
    const list = await hub.request({ method: 'GET', url: '/api/v2/forms', key: a.key });
    expect((list.json() as { data: Array<{ title: string }> }).data[0]?.title).toBe('Renamed');
  });

  it('serves the public schema from the forms cache and shows a PATCH at once', async () => {
    const url = `/api/v2/forms/${formA.id}/schema`;
    const before = await hub.request({ method: 'GET', url });
    await hub.request({ method: 'GET', url });
    const metrics = (await hub.request({ method: 'GET', url: '/metrics' })).body;
    expect(counter(metrics, 'formhub_cache_hits_total', 'forms', 'l1')).toBeGreaterThan(0);
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/forms/${formA.id}`,
      key: a.key,
      payload: { status: 'draft' },
    });
    expect((await hub.request({ method: 'GET', url })).statusCode).toBe(404);
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/forms/${formA.id}`,
      key: a.key,
      payload: { status: 'published' },
    });
    const after = await hub.request({ method: 'GET', url });
    expect(after.statusCode).toBe(200);
    expect(after.json().version).toBeGreaterThan(before.json().version);
    const submitted = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formA.id}/responses`,
      payload: { data: { name: 'Ada' } },
    });
    expect(submitted.statusCode).toBe(201);
    const { rows } = await hub.db.query<{ form_version: number }>(
      'SELECT form_version FROM responses WHERE id = $1',
      [submitted.json().id],
    );
    expect(rows[0]?.form_version).toBe(after.json().version); // validated against the new version
  });

  it('refuses a revoked key at once although it was cached', async () => {
    const created = await hub.request({
      method: 'POST',
      url: '/api/v2/api-keys',
      key: a.key,
      payload: { name: 'short-lived' },
    });
    const { id, key } = created.json() as { id: string; key: string };
    expect((await hub.request({ method: 'GET', url: '/api/v2/forms', key })).statusCode).toBe(200);
    expect((await hub.request({ method: 'GET', url: '/api/v2/forms', key })).statusCode).toBe(200);
    expect(
      (await hub.request({ method: 'DELETE', url: `/api/v2/api-keys/${id}`, key: a.key }))
        .statusCode,
    ).toBe(204);
    expect((await hub.request({ method: 'GET', url: '/api/v2/forms', key })).statusCode).toBe(401);
  });
});

describe('with CACHE_ENABLED=false', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startHub({ CACHE_ENABLED: 'false' });
  });
  afterAll(() => hub?.close());

  it('reads PostgreSQL every time and counts no cache traffic', async () => {
    const ws = await hub.workspace();
    const form = (
      await hub.request({ method: 'POST', url: '/api/v2/forms', key: ws.key, payload: FORM })
    ).json();
    for (let i = 0; i < 3; i++) {
      expect(
        (await hub.request({ method: 'GET', url: `/api/v2/forms/${form.id}/schema` })).statusCode,
      ).toBe(200);
      expect(
        (await hub.request({ method: 'GET', url: `/api/v2/forms/${form.id}`, key: ws.key }))
          .headers['x-cache'],
      ).toBe('miss');
    }
    const metrics = (await hub.request({ method: 'GET', url: '/metrics' })).body;
    expect(counter(metrics, 'formhub_cache_hits_total', 'forms', 'l1')).toBe(0);
  });
});
