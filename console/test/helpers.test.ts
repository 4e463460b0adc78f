import { describe, expect, it } from 'vitest';
import { buildFilter, describeFilter, fileNameOf, rowsFromFilter } from '../src/filter.ts';
import { formatRate, healthFigures } from '../src/health.ts';
import { parseRoute, pathOf, type Route } from '../src/router.ts';
import { readEvents } from '../src/sse.ts';
import type { DeliveryStats, Field } from '../src/types.ts';

const fields: Field[] = [
  { key: 'dept', type: 'select', options: ['IT', 'HR'] },
  { key: 'age', type: 'integer' },
  { key: 'score', type: 'rating' },
  { key: 'ok', type: 'boolean' },
  { key: 'note', type: 'text' },
];

describe('export wizard filter', () => {
  it('turns one row into one condition, typed by the field', () => {
    expect(buildFilter([{ path: 'data.age', op: '$gte', value: ' 18 ' }], fields)).toEqual({
      'data.age': { $gte: 18 },
    });
    expect(buildFilter([{ path: 'data.ok', op: '$eq', value: 'false' }], fields)).toEqual({
      'data.ok': { $eq: false },
    });
    expect(buildFilter([{ path: 'completed', op: '$eq', value: 'true' }], fields)).toEqual({
      completed: { $eq: true },
    });
    expect(buildFilter([{ path: 'data.note', op: '$contains', value: 'urgent' }], fields)).toEqual({
      'data.note': { $contains: 'urgent' },
    });
  });

  it('ANDs several rows, splits lists, and defaults $exists to true', () => {
    expect(
      buildFilter(
        [
          { path: 'data.dept', op: '$in', value: 'IT, HR' },
          { path: 'data.score', op: '$nin', value: '1,2' },
          { path: 'data.note', op: '$exists', value: '' },
        ],
        fields,
      ),
    ).toEqual({
      $and: [
        { 'data.dept': { $in: ['IT', 'HR'] } },
        { 'data.score': { $nin: [1, 2] } },
        { 'data.note': { $exists: true } },
      ],
    });
  });

  it('answers undefined without rows and names the row whose value does not fit', () => {
    expect(buildFilter([], fields)).toBeUndefined();
    expect(() =>
      buildFilter(
        [
          { path: 'data.dept', op: '$eq', value: 'IT' },
          { path: 'data.age', op: '$lt', value: 'old' },
        ],
        fields,
      ),
    ).toThrow('Filter row 2: "old" is not a number');
    expect(() => buildFilter([{ path: 'data.ok', op: '$eq', value: 'yes' }], fields)).toThrow(
      'Filter row 1: "yes" is not true or false',
    );
  });

  it('takes the file name from Content-Disposition', () => {
    expect(fileNameOf(`attachment; filename="a.csv"; filename*=UTF-8''caf%C3%A9.csv`, 'x')).toBe(
      'café.csv',
    );
    expect(fileNameOf('attachment; filename="report.xlsx"', 'x')).toBe('report.xlsx');
    expect(fileNameOf(null, 'export.csv')).toBe('export.csv');
  });
});

describe('console routes', () => {
  it('parses every client route and writes it back', () => {
    const formId = '01a22476-4ba1-753e-a3e5-317be5b302db';
    const routes: Route[] = [
      { name: 'forms' },
      { name: 'dashboard', formId },
      { name: 'export', formId },
      { name: 'integrations', formId },
      { name: 'notifications' },
    ];
    for (const route of routes) expect(parseRoute(pathOf(route))).toEqual(route);
    expect(parseRoute('/console')).toEqual({ name: 'forms' });
    expect(parseRoute(`/console/forms/${formId}/nope`)).toEqual({ name: 'missing' });
    expect(parseRoute('/console/forms/..%2Fapi-keys')).toEqual({ name: 'missing' });
    expect(parseRoute('/console/elsewhere')).toEqual({ name: 'missing' });
    expect(parseRoute('/console/notifications/x')).toEqual({ name: 'missing' });
  });
});

describe('SSE reader', () => {
  const streamOf = (chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });

  it('reassembles events split across chunks, skips comments, joins data lines', async () => {
    const events = [];
    for await (const event of readEvents(
      streamOf([
        'event: met',
        'rics\ndata: {"total"',
        ':1}\n\n: keep-alive\n\n',
        'data: a\r\ndata: b\r\n\r\n',
      ]),
    )) {
      events.push(event);
    }
    expect(events).toEqual([
      { event: 'metrics', data: '{"total":1}' },
      { event: 'message', data: 'a\nb' },
    ]);
  });
});

describe('delivery health figures', () => {
  const stats: DeliveryStats = {
    window: '24h',
    delivered: 5,
    failed_attempts: 6,
    dead: 2,
    pending: 1,
    filtered: 3,
    success_rate: 5 / 7,
    latency_ms: { p50: 64, p95: 216 },
    buckets: [],
  };

  it('formats the rate and lists every figure of the stats', () => {
    expect(formatRate(stats.success_rate)).toBe('71.4%');
    expect(formatRate(0)).toBe('0.0%');
    expect(formatRate(null)).toBe('no deliveries');
    expect(healthFigures(stats).map((f) => [f.label, f.value])).toEqual([
      ['Delivered', '5'],
      ['Failed attempts', '6'],
      ['Dead', '2'],
      ['Pending', '1'],
      ['Filtered', '3'],
      ['Latency p95', '216 ms'],
    ]);
    const empty = { ...stats, latency_ms: { p50: null, p95: null } };
    expect(healthFigures(empty).at(-1)!.value).toBe('–');
  });
});

describe('integration condition rows', () => {
  it('reads back the rows that built a filter (round trip through buildFilter)', () => {
    const filters = [
      { 'data.age': { $gte: 18 } },
      { $and: [{ 'data.dept': { $in: ['IT', 'HR'] } }, { 'data.ok': { $eq: false } }] },
      { $and: [{ 'data.note': { $contains: 'urgent' } }, { 'data.score': { $exists: true } }] },
    ];
    for (const filter of filters) {
      const rows = rowsFromFilter(filter);
      expect(rows).not.toBeNull();
      expect(buildFilter(rows!, fields)).toEqual(filter);
    }
  });

  it('reads shorthand equality and several operators on one path as rows', () => {
    expect(rowsFromFilter({ 'data.dept': 'IT', 'data.age': { $gte: 18, $lt: 65 } })).toEqual([
      { path: 'data.dept', op: '$eq', value: 'IT' },
      { path: 'data.age', op: '$gte', value: '18' },
      { path: 'data.age', op: '$lt', value: '65' },
    ]);
    expect(rowsFromFilter(null)).toEqual([]);
  });

  it('gives up (JSON editing) on what rows cannot show, rather than simplify it', () => {
    expect(rowsFromFilter({ $or: [{ 'data.age': { $gt: 1 } }] })).toBeNull();
    expect(rowsFromFilter({ 'data.age': { $not: { $gt: 1 } } })).toBeNull();
    expect(rowsFromFilter({ 'data.dept': { $in: ['a,b'] } })).toBeNull();
    expect(rowsFromFilter({ 'data.tags': ['a', 'b'] })).toBeNull();
    expect(rowsFromFilter({ 'data.dept': { $in: 'IT' } })).toBeNull();
  });

  it('describes a condition in words, or as JSON when rows cannot show it', () => {
    expect(describeFilter(null)).toBe('every event');
    expect(
      describeFilter({
        $and: [{ 'data.dept': { $in: ['IT', 'HR'] } }, { 'data.age': { $gte: 40 } }],
      }),
    ).toBe('data.dept is one of IT, HR and data.age at least 40');
    expect(describeFilter({ $or: [{ completed: true }] })).toBe('{"$or":[{"completed":true}]}');
  });
});
