/**
 * Scoped keys on the embedded database (PGlite): migration 16, the `text[]`/`uuid[]`
 * columns and the `= ANY($n::uuid[])` filters work there as on PostgreSQL.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { call, FIELDS, scopedKey } from '../support/scoped-world.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startHub({}, { embedded: true });
}, 60_000);
afterAll(() => hub?.close());

it('stores limits, checks scopes and keeps listings to the key forms', async () => {
  const { key: owner } = await hub.workspace('Embedded scopes');
  const mine = (await call(hub, owner, 'POST', '/api/v2/forms', { title: 'a', fields: FIELDS }))
    .id as string;
  const theirs = (await call(hub, owner, 'POST', '/api/v2/forms', { title: 'b', fields: FIELDS }))
    .id as string;
  const limited = await scopedKey(hub, owner, { scopes: ['forms:read'], form_ids: [mine] });
  const listed = await call(hub, limited, 'GET', '/api/v2/forms');
  expect((listed.data as { id: string }[]).map((f) => f.id)).toEqual([mine]);
  const other = await hub.request({ method: 'GET', url: `/api/v2/forms/${theirs}`, key: limited });
  expect(other.statusCode).toBe(404);
  const write = await hub.request({
    method: 'PATCH',
    url: `/api/v2/forms/${mine}`,
    key: limited,
    payload: { title: 'x' },
  });
  expect(write.statusCode).toBe(403);
  const keys = await call(hub, owner, 'GET', '/api/v2/api-keys');
  expect(keys.data).toContainEqual(
    expect.objectContaining({ scopes: ['forms:read'], form_ids: [mine] }),
  );
  const unknown = await hub.request({
    method: 'POST',
    url: '/api/v2/api-keys',
    key: owner,
    payload: { name: 'x', form_ids: ['0190a000-0000-7000-8000-000000000000'] },
  });
  expect(unknown.statusCode).toBe(422);
});
