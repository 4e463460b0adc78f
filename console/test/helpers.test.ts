import { describe, expect, it } from 'vitest';
import { buildFilter, describeFilter, fileNameOf, rowsFromFilter } from '../src/filter.ts';
import { successRate } from '../src/health.ts';
import { parseRoute, pathOf, type Route } from '../src/router.ts';
import { readEvents } from '../src/sse.ts';
import type { Delivery, Field } from '../src/types.ts';

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

describe('delivery success rate', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  const delivery = (status: Delivery['status'], hoursAgo: number, attempts = 1): Delivery => ({
    id: `${status}-${hoursAgo}`,
    event: 'response.submitted',
    status,
    created_at: new Date(now - hoursAgo * 3_600_000).toISOString(),
    next_attempt_at: null,
    attempts: Array.from({ length: attempts }, (_, i) => ({
      number: i + 1,
      at: '',
      status_code: 200,
      latency_ms: 1,
      error: null,
      manual: false,
    })),
  });

  it('counts the last 24 h, leaving out deliveries not tried yet', () => {
    const list = [
      delivery('succeeded', 1),
      delivery('succeeded', 2),
      delivery('dead', 3),
      delivery('failed', 23),
      delivery('pending', 1, 0),
      delivery('dead', 25),
    ];
    expect(successRate(list, now)).toEqual({ rate: 0.5, counted: 4 });
    expect(successRate([delivery('pending', 1, 0)], now)).toEqual({ rate: null, counted: 0 });
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
