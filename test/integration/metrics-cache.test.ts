import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aggregatesFromSql,
  buildDocument,
  MetricsService,
  MetricsStore,
  type MetricsDocument,
} from '../../src/analytics/metrics/index.ts';
import { FormService, type Field } from '../../src/forms/index.ts';
import { caller, finishedErasure } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const WIDE = 'w'.repeat(40_000);
const FIELDS: Field[] = [
  { key: 'email', type: 'email' },
  { key: 'dept', type: 'select', options: ['IT', 'HR', 'Ünïcode "quoted" \\ dept'] },
  { key: 'tags', type: 'multiselect', options: ['a', 'b', 'c'] },
  { key: 'note', type: 'textarea' },
];

/**
 * The metrics document served from this process's cache (the JSON and ETag of the last
 * document, while the aggregates' stamp and the hour stay the same) stays exactly what
 * PostgreSQL says through every kind of write, including writes counted by another process.
 */
describe('metrics served from the document cache', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let call: ReturnType<typeof caller>;
  beforeAll(async () => {
    // With the worker, for the erasure job (its analytics relay counts events as well).
    hub = await startHub({}, { worker: true });
    key = (await hub.workspace()).key;
    call = caller(hub, key);
    formId = (await call('POST', '/forms', { title: 'C', fields: FIELDS })).id;
  });
  afterAll(async () => hub.close());

  const get = (headers: Record<string, string> = {}, id = formId) =>
    hub.request({ method: 'GET', url: `/api/v2/analytics/forms/${id}/metrics`, key, headers });
  const submit = (data: Record<string, unknown>, completed = true) =>
    call<{ id: string; resume_token?: string }>('POST', `/forms/${formId}/responses`, {
      data,
      completed,
    });
  /** The served body must be, byte for byte, the document PostgreSQL gives for its hour. */
  const expectExact = async (body: string) => {
    const doc = JSON.parse(body) as MetricsDocument;
    const now = new Date(doc.timeseries.hour.at(-1)!.t);
    const { rows } = await hub.db.query<{ fields: Field[] }>(
      'SELECT fields FROM forms WHERE id = $1',
      [formId],
    );
    const fields = rows[0]!.fields;
    const truth = buildDocument(
      formId,
      fields,
      await aggregatesFromSql(hub.db, formId, fields, now),
      now,
    );
    expect(body).toBe(JSON.stringify(truth));
    return doc;
  };

  it('serves the same bytes and ETag again, and 304 to a client that holds them', async () => {
    await submit({ email: 'a@x.io', dept: 'IT', tags: ['a', 'b'] });
    await get(); // builds the aggregates
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"m-[A-Za-z0-9_-]+"$/);
    const second = await get();
    expect(second.body).toBe(first.body);
    expect(second.headers.etag).toBe(etag);
    await expectExact(second.body);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const notModified = await get({ 'if-none-match': header });
      expect(notModified.statusCode, header).toBe(304);
      expect(notModified.body).toBe('');
      expect(notModified.headers.etag).toBe(etag);
    }
    expect((await get({ 'if-none-match': '"m-other"' })).statusCode).toBe(200);
    // The same form named in upper case: the same document.
    const upper = await get({}, formId.toUpperCase());
    expect(upper.statusCode).toBe(200);
    expect(upper.headers.etag).toBe(etag);
  });

  it('sees every write at once: submissions, partials, edits, deletions, wide answers', async () => {
    const before = await get();
    const etag = before.headers.etag as string;
    const done = await submit({ email: 'b@x.io', dept: FIELDS[1]!.options![2], tags: ['c'] });
    const changed = await get({ 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    const doc = await expectExact(changed.body);
    expect(doc.total).toBe(JSON.parse(before.body).total + 1);

    const partial = await submit({ email: 'c@x.io', note: `${WIDE}?` }, false);
    await expectExact((await get()).body);
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${partial.id}`,
      headers: { 'x-resume-token': partial.resume_token! },
      payload: { data: { dept: 'HR', tags: ['a', 'c'], note: WIDE }, completed: true },
    });
    await expectExact((await get()).body);
    await call('PATCH', `/responses/${done.id}`, { data: { dept: 'IT' } });
    await expectExact((await get()).body);
    await call('DELETE', `/responses/${done.id}`);
    const afterDelete = await expectExact((await get()).body);
    expect(afterDelete.fields.dept!.counts).toEqual({ IT: 1, HR: 1 });
  });

  it('sees a change counted by another process (the stamp moves with the hashes)', async () => {
    await get();
    const before = await get(); // served from the cache from here on
    expect((await get()).headers.etag).toBe(before.headers.etag);
    const other = new MetricsService(
      hub.db,
      new MetricsStore(hub.redis, hub.config.redis.prefix),
      new FormService(hub.db),
      pino({ level: 'silent' }),
    );
    await submit({ email: 'd@x.io', dept: 'HR', tags: ['b'] });
    // The other process (or the worker's relay, another service too) counts the event and
    // marks it: this read finds nothing pending.
    await other.applyPending(100, formId);
    const { rows } = await hub.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE form_id = $1 AND aggregated_at IS NULL',
      [formId],
    );
    expect(rows[0]!.n).toBe(0);
    const after = await get();
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const doc = await expectExact(after.body);
    expect(doc.total).toBe(JSON.parse(before.body).total + 1);
  });

  it('drops the served document when an erasure removes responses, and after a rebuild', async () => {
    await submit({ email: 'erase-me@x.io', dept: 'IT', tags: ['a'] });
    const before = await expectExact((await get()).body);
    const { id } = await call('POST', '/erasures', {
      form_id: formId,
      match: { 'data.email': 'erase-me@x.io' },
    });
    expect((await finishedErasure(hub, key, id)).status).toBe('succeeded');
    const after = await expectExact((await get()).body);
    expect(after.total).toBe(before.total - 1);
    // Redis loses everything: the next read rebuilds, the one after is served again.
    const keys = await hub.redis.keys(`${hub.config.redis.prefix}an:${formId}:*`);
    await hub.redis.del(...keys);
    const rebuilt = await get();
    expect(rebuilt.headers['x-metrics-source']).toBe('rebuild');
    expect(rebuilt.body).toBe(JSON.stringify(after));
    expect((await get()).headers.etag).toBe(rebuilt.headers.etag);
  });
});
