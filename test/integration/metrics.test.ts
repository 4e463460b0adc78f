import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aggregatesFromSql,
  buildDocument,
  type MetricsDocument,
} from '../../src/analytics/metrics/index.ts';
import type { Field } from '../../src/forms/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const FIELDS: Field[] = [
  { key: 'name', type: 'text' },
  { key: 'dept', type: 'select', options: ['IT', 'HR', 'Finance'] },
  { key: 'tags', type: 'multiselect', options: ['a', 'b', 'c'] },
  { key: 'ok', type: 'boolean' },
  { key: 'stars', type: 'rating', max: 5 },
];

describe('live metrics', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  beforeAll(async () => {
    hub = await startHub();
    key = (await hub.workspace()).key;
    formId = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'M', fields: FIELDS },
      })
    ).json().id;
  });
  afterAll(async () => hub.close());

  const submit = async (data: Record<string, unknown>, completed = true) =>
    (
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data, completed },
      })
    ).json();
  /** The metrics document; `source` says which path must have served it. */
  const metrics = async (source: 'redis' | 'rebuild' | 'any' = 'redis') => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/analytics/forms/${formId}/metrics`,
      key,
    });
    expect(res.statusCode, res.body).toBe(200);
    if (source !== 'any') expect(res.headers['x-metrics-source']).toBe(source);
    return res.json();
  };
  /**
   * The document PostgreSQL alone gives for the instant `doc` was built at (the start of its
   * last hour bucket: the series only depend on the buckets), so that a comparison holds
   * even when an hour or a day ends between the two reads.
   */
  const fromSql = async (doc: MetricsDocument) => {
    const now = new Date(doc.timeseries.hour.at(-1)!.t);
    const form = (
      await hub.db.query<{ fields: Field[] }>('SELECT fields FROM forms WHERE id = $1', [formId])
    ).rows[0]!;
    return buildDocument(
      formId,
      form.fields,
      await aggregatesFromSql(hub.db, formId, form.fields, now),
      now,
    );
  };

  it('counts creates, partials, completions, updates and deletes exactly', async () => {
    expect((await metrics('rebuild')).total).toBe(0);
    const done = [
      await submit({ name: 'a', dept: 'IT', tags: ['a', 'b'], ok: true, stars: 5 }),
      await submit({ name: 'b', dept: 'IT', tags: ['b'], ok: false, stars: 4 }),
    ];
    const gone = await submit({ name: 'c', dept: 'HR', tags: [], stars: 3 });
    const partial = await submit({ name: 'p', dept: 'Finance' }, false);
    const before = new Date().toISOString().slice(0, 10);
    let doc = await metrics();
    const after = new Date().toISOString().slice(0, 10);
    // "Today" is the document's own day (read between two clock readings), and its count is
    // the completed submissions stamped on that day: both from one instant, midnight or not.
    const today = doc.timeseries.day.at(-1)!.t;
    expect([before, after]).toContain(today);
    const completedToday = [gone, ...done].filter(
      (r) => r.submitted_at.slice(0, 10) === today,
    ).length;
    expect(doc).toMatchObject({
      total: 4,
      completed: 3,
      partial: 1,
      today: completedToday,
      completion_rate: 0.75,
    });
    expect(doc.fields.dept).toEqual({ answered: 3, counts: { IT: 2, HR: 1 } });
    expect(doc.fields.tags).toEqual({ answered: 2, counts: { b: 2, a: 1 } });
    expect(doc.fields.ok).toEqual({ answered: 2, counts: { false: 1, true: 1 } });
    expect(doc.fields.name).toBeUndefined();
    expect(doc.timeseries.hour).toHaveLength(48);
    expect(doc.timeseries.day).toHaveLength(90);
    expect(doc.timeseries.month).toHaveLength(12);
    expect(doc.timeseries.day.at(-1)).toEqual({ t: today, count: completedToday });

    await hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${partial.id}`,
      headers: { 'x-resume-token': partial.resume_token },
      payload: { data: { tags: ['c'] }, completed: true },
    });
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${gone.id}`,
      key,
      payload: { data: { dept: 'IT' } },
    });
    await hub.request({ method: 'DELETE', url: `/api/v2/responses/${gone.id}`, key });
    doc = await metrics();
    expect(doc).toMatchObject({ total: 3, completed: 3, partial: 0, completion_rate: 1 });
    expect(doc.fields.dept.counts).toEqual({ IT: 2, Finance: 1 });
    expect(doc).toEqual(await fromSql(doc));
  });

  it('includes bulk imports, with history in the day and month series', async () => {
    const day = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const rows = [
      { data: { dept: 'HR', stars: 1 }, submitted_at: `${day}T08:00:00Z` },
      { data: { dept: 'HR' }, submitted_at: `${day}T09:00:00Z` },
      { data: { dept: 'IT' }, submitted_at: `${day}T10:00:00Z`, completed: false },
    ];
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      payload: rows,
    });
    expect(res.statusCode, res.body).toBe(201);
    const doc = await metrics('rebuild');
    expect(doc).toMatchObject({ total: 6, completed: 5, partial: 1 });
    expect(doc.timeseries.day.find((p: { t: string }) => p.t === day)).toEqual({
      t: day,
      count: 2,
    });
    expect(doc).toEqual(await fromSql(doc));
  });

  it('never counts a replayed event twice', async () => {
    const before = await metrics();
    await submit({ dept: 'IT' });
    await metrics();
    await hub.db.query('UPDATE outbox SET aggregated_at = NULL WHERE form_id = $1', [formId]);
    const after = await metrics();
    expect(after.total).toBe(before.total + 1);
    expect(after).toEqual(await fromSql(after));
  });

  it('rebuilds from PostgreSQL after Redis lost the aggregates', async () => {
    const before = await metrics();
    const keys = await hub.redis.keys(`${hub.config.redis.prefix}an:*`);
    expect(keys.length).toBeGreaterThan(0);
    await hub.redis.del(...keys);
    expect(await metrics('rebuild')).toEqual(before);
    await submit({ dept: 'HR', ok: true });
    expect((await metrics()).total).toBe(before.total + 1);
    const again = await metrics();
    expect(again).toEqual(await fromSql(again));
  });

  it('recounts when the form changes, and answers 404 across workspaces', async () => {
    await hub.request({
      method: 'PATCH',
      url: `/api/v2/forms/${formId}`,
      key,
      payload: { fields: [...FIELDS, { key: 'size', type: 'radio', options: ['S', 'L'] }] },
    });
    await submit({ size: 'L' });
    const doc = await metrics('rebuild');
    expect(doc.fields.size).toEqual({ answered: 1, counts: { L: 1 } });
    expect(doc).toEqual(await fromSql(doc));
    const other = await hub.workspace('other');
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/analytics/forms/${formId}/metrics`,
      key: other.key,
    });
    expect(res.statusCode).toBe(404);
  });

  it('answers from SQL, with the same numbers, while Redis is unreachable', async () => {
    const expected = await metrics('any');
    hub.redis.disconnect();
    try {
      const doc = await metrics('any');
      expect(doc).toEqual(await fromSql(doc));
      expect(doc.total).toBe(expected.total);
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/analytics/forms/${formId}/metrics`,
        key,
      });
      expect(res.headers['x-metrics-source']).toBe('sql');
    } finally {
      await hub.redis.connect();
    }
    expect((await metrics('any')).total).toBe(expected.total);
  });

  it('the reconcile job finds aggregates that drifted from PostgreSQL and repairs them', async () => {
    const { MetricsService, MetricsStore } = await import('../../src/analytics/index.ts');
    const { FormService } = await import('../../src/forms/index.ts');
    const pino = (await import('pino')).default;
    const forms = new FormService(hub.db);
    const service = new MetricsService(
      hub.db,
      new MetricsStore(hub.redis, hub.config.redis.prefix),
      forms,
      pino({ level: 'silent' }),
    );
    const form = (await forms.getAny(formId))!;
    await metrics('any');
    expect(await service.reconcile(form)).toBe(false);
    // A delta counted wrongly (as the apply script counts: the hashes and the generation
    // together, so that a served document sees the change).
    await hub.redis
      .multi()
      .hincrby(`${hub.config.redis.prefix}an:${formId}:counts`, 'total', 5)
      .incr(`${hub.config.redis.prefix}an:${formId}:gen`)
      .exec();
    const drifted = await metrics('redis');
    expect(drifted.total).not.toEqual((await fromSql(drifted)).total);
    expect(await service.reconcile(form)).toBe(true);
    const repaired = await metrics('redis');
    expect(repaired).toEqual(await fromSql(repaired));
    expect(await service.reconcileAll()).toBe(0);
  });
});
