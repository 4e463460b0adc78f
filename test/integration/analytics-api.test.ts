import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

const FIELDS = [
  { key: 'department', type: 'select', options: ['IT', 'HR', 'Finance'] },
  { key: 'status', type: 'select', options: ['approved', 'rejected'] },
  { key: 'hours', type: 'number' },
  { key: 'tags', type: 'multiselect', options: ['x', 'y'] },
];

describe('analytics query API', () => {
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
        payload: { title: 'Q', fields: FIELDS },
      })
    ).json().id;
    const rows = [
      {
        data: { department: 'IT', status: 'approved', hours: 2, tags: ['x'] },
        submitted_at: '2026-01-31T23:00:00Z',
      },
      {
        data: { department: 'IT', status: 'approved', hours: 4, tags: ['x', 'y'] },
        submitted_at: '2026-02-01T01:00:00Z',
      },
      {
        data: { department: 'HR', status: 'approved', hours: 10 },
        submitted_at: '2026-02-02T12:00:00Z',
      },
      {
        data: { department: 'HR', status: 'rejected', hours: 1 },
        submitted_at: '2025-12-31T12:00:00Z',
      },
      { data: { status: 'approved' }, submitted_at: '2026-03-01T00:00:00Z', completed: false },
    ];
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      payload: rows,
    });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(async () => hub.close());

  const query = (body: unknown) =>
    hub.request({
      method: 'POST',
      url: `/api/v2/analytics/forms/${formId}/query`,
      key,
      payload: body as object,
    });

  it('answers the DESIGN example: count by department of approved responses since a date', async () => {
    const res = await query({
      aggregate: 'count',
      group_by: 'data.department',
      filter: { submitted_at: { $gte: '2026-01-01' }, 'data.status': { $eq: 'approved' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ result: { IT: 2, HR: 1, null: 1 } });
  });

  it('aggregates numbers, groups by month and by nested paths, keeps the top N', async () => {
    expect(
      (
        await query({ aggregate: 'avg', field: 'data.hours', filter: { 'data.department': 'IT' } })
      ).json(),
    ).toEqual({ result: 3 });
    expect(
      (
        await query({
          aggregate: 'sum',
          field: 'data.hours',
          group_by: { date_trunc: 'month', field: 'submitted_at' },
        })
      ).json(),
    ).toEqual({
      result: { '2025-12': 1, '2026-01': 2, '2026-02': 14, '2026-03': 0 },
    });
    expect(
      (await query({ aggregate: 'count', group_by: ['data.department', 'data.status'] })).json()
        .result,
    ).toEqual({
      IT: { approved: 2 },
      HR: { approved: 1, rejected: 1 },
      null: { approved: 1 },
    });
    expect(
      (await query({ aggregate: 'count', group_by: 'data.department', limit: 1 })).json().result,
    ).toEqual({ HR: 2 });
    expect((await query({ aggregate: 'count', filter: { completed: true } })).json()).toEqual({
      result: 4,
    });
    expect(
      (await query({ aggregate: 'count', filter: { 'data.tags': { $contains: 'y' } } })).json(),
    ).toEqual({ result: 1 });
  });

  it('answers 400 naming the offending part, and never runs user text as SQL', async () => {
    const cases: [unknown, string][] = [
      [{ aggregate: 'median', field: 'data.hours' }, 'aggregate'],
      [{ aggregate: 'sum' }, 'field'],
      [{ aggregate: 'count', filter: { 'data.nope': 1 } }, 'filter.data.nope'],
      [{ aggregate: 'count', filter: { 'data.hours': { $gt: 'abc' } } }, 'filter.data.hours.$gt'],
      [{ aggregate: 'count', filter: { "data.x'); DROP TABLE responses;--": 1 } }, 'filter'],
      [
        { aggregate: 'count', filter: { 'data.hours': { $regex: '.*' } } },
        'filter.data.hours.$regex',
      ],
      [[1, 2], ''],
    ];
    for (const [body, field] of cases) {
      const res = await query(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
      if (field) expect(JSON.stringify(res.json().error.details)).toContain(field.split('.')[0]);
    }
    const { rows } = await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM responses');
    expect(rows[0]!.n).toBe(5);
  });

  it('filters listings with the same DSL', async () => {
    const filter = encodeURIComponent(JSON.stringify({ 'data.hours': { $gte: 4 } }));
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/responses?filter=${filter}`,
      key,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(
      res
        .json()
        .data.map((r: { data: { hours: number } }) => r.data.hours)
        .sort(),
    ).toEqual([10, 4]);
    const bad = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/responses?filter=${encodeURIComponent('{"data.hours": {"$bogus": 1}}')}`,
      key,
    });
    expect(bad.statusCode).toBe(400);
    const notJson = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/responses?filter=nope`,
      key,
    });
    expect(notJson.statusCode).toBe(400);
  });
});

describe('FEATURE_ANALYTICS=false', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startHub({ FEATURE_ANALYTICS: 'false' });
  });
  afterAll(async () => hub.close());

  it('makes every analytics route answer 404', async () => {
    const { key } = await hub.workspace();
    const form = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'x', fields: [] },
      })
    ).json();
    for (const [method, url] of [
      ['GET', `/api/v2/analytics/forms/${form.id}/metrics`],
      ['POST', `/api/v2/analytics/forms/${form.id}/query`],
      ['GET', `/api/v2/analytics/forms/${form.id}/trends`],
      ['GET', `/api/v2/analytics/forms/${form.id}/stream`],
      ['GET', '/api/v2/analytics/predict/next-week'],
    ] as const) {
      const res = await hub.request({
        method,
        url,
        key,
        ...(method === 'POST' ? { payload: { aggregate: 'count' } } : {}),
      });
      expect(res.statusCode, url).toBe(404);
    }
  });
});
