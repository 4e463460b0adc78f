import { describe, expect, it } from 'vitest';
import {
  compileFilter,
  compileQuery,
  MAX_PREDICATES,
  parseTimestamp,
  type CompileContext,
} from '../../src/analytics/dsl/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { decodeTimeCursor, encodeCursor } from '../../src/http/cursor.ts';
import { parseBound } from '../../src/responses/list-params.ts';

const ctx: CompileContext = {
  fields: [
    { key: 'age', type: 'integer' },
    { key: 'name', type: 'text' },
    { key: 'tags', type: 'multiselect', options: ['a', 'b'] },
    { key: 'meeting', type: 'datetime' },
  ],
  calculatedKeys: ['total'],
};

const compile = (filter: unknown) => compileFilter(filter, ctx, []);

/** The 400 `invalid_request` that `fn` throws; fails the test when it throws anything else. */
function error400(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_request');
    return error as AppError;
  }
  throw new Error('expected a 400, got none');
}

const fieldOf = (fn: () => unknown) => error400(fn).details[0]?.field;
const ors = (n: number) => ({ $or: Array.from({ length: n }, (_, i) => ({ 'data.age': i })) });

describe('DSL breadth: at most 200 predicates', () => {
  it('takes 200 comparisons and refuses the 201st, naming it', () => {
    expect(MAX_PREDICATES).toBe(200);
    expect(() => compile(ors(200))).not.toThrow();
    expect(fieldOf(() => compile(ors(201)))).toBe('filter.$or');
    const spread = {
      $and: Array.from({ length: 100 }, (_, i) => ({ 'data.age': { $gt: i, $lt: i + 10 } })),
    };
    expect(() => compile(spread)).not.toThrow(); // 200, two per operator object
    const one = { ...spread, 'data.name': 'x' };
    expect(fieldOf(() => compile(one))).toBe('filter.data.name');
  });

  it('counts every comparison under $and, $or and $not, wherever it sits', () => {
    const nested = (n: number) => ({
      $not: { $and: [{ $or: ors(n / 2).$or }, { $not: { $or: ors(n / 2).$or } }] },
    });
    expect(() => compile(nested(200))).not.toThrow();
    expect(fieldOf(() => compile({ ...nested(200), completed: true }))).toBe('filter.completed');
    // `$not` of an operator object counts its comparisons, not itself.
    const notOps = {
      $and: Array.from({ length: 200 }, () => ({ 'data.age': { $not: { $gt: 1 } } })),
    };
    expect(() => compile(notOps)).not.toThrow();
    expect(fieldOf(() => compile({ ...notOps, 'data.age': { $not: { $lt: 3 } } }))).toBe(
      'filter.data.age.$not.$lt',
    );
  });

  it('refuses a 40,000-member $or before compiling its members', () => {
    const started = performance.now();
    const error = error400(() => compile(ors(40_000)));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.details[0]).toMatchObject({ field: 'filter.$or' });
    expect(error.message).toContain('at most 200');
  });

  it('applies the limit to the filter of an analytics query', () => {
    const error = error400(() => compileQuery({ aggregate: 'count', filter: ors(201) }, ctx));
    expect(error.details[0]?.field).toBe('filter.$or');
  });
});

describe('DSL lists and depth', () => {
  const list = (n: number) => Array.from({ length: n }, (_, i) => i);
  it('takes 1,000 $in / $nin members and refuses 1,001', () => {
    expect(() => compile({ 'data.age': { $in: list(1000) } })).not.toThrow();
    expect(fieldOf(() => compile({ 'data.age': { $in: list(1001) } }))).toBe('filter.data.age.$in');
    expect(fieldOf(() => compile({ 'data.age': { $nin: list(1001) } }))).toBe(
      'filter.data.age.$nin',
    );
    const options = Array.from({ length: 1001 }, () => 'a');
    expect(fieldOf(() => compile({ 'data.tags': { $eq: options } }))).toBe('filter.data.tags.$eq');
  });

  it('refuses 100,000 levels of nesting without exhausting the stack', () => {
    let deep: unknown = { completed: true };
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? { $not: deep } : { $and: [deep] };
    expect(error400(() => compile(deep)).message).toContain('32 levels');
    let ops: unknown = { $gt: 1 };
    for (let i = 0; i < 100_000; i++) ops = { $not: ops };
    expect(error400(() => compile({ 'data.age': ops })).message).toContain('32 levels');
  });
});

describe('DSL text: no U+0000, no unpaired surrogate', () => {
  it.each([
    [{ 'data.name': 'a\u0000b' }, 'filter.data.name'],
    [{ 'data.name': { $contains: '\uD800' } }, 'filter.data.name.$contains'],
    [{ 'data.name': { $in: ['ok', 'x\uDC00'] } }, 'filter.data.name.$in[1]'],
    [{ 'data.name': { $gt: '\uDBFFz' } }, 'filter.data.name.$gt'],
    [{ 'data.total': 'nul\u0000' }, 'filter.data.total'],
    [{ 'data.tags': '\u0000' }, 'filter.data.tags'],
    [{ 'data.tags': ['a', '\uD83D'] }, 'filter.data.tags[1]'],
    [{ 'data.tags': { $in: ['a', '\uDE00'] } }, 'filter.data.tags.$in[1]'],
    [{ 'data.tags': { $contains: '\u0000' } }, 'filter.data.tags.$contains'],
  ])('refuses %j naming %s', (filter, field) => {
    expect(fieldOf(() => compile(filter))).toBe(field);
  });

  it('takes paired surrogates (an emoji)', () => {
    expect(() => compile({ 'data.name': { $contains: '\uD83D\uDE00' } })).not.toThrow();
  });
});

describe('dates and offsets: years 1-9999, offsets up to +-14:00', () => {
  it.each([
    ['2026-01-01T00:00:00+14:00', '2026-01-01T00:00:00+14:00'],
    ['2026-01-01T00:00:00-14:00', '2026-01-01T00:00:00-14:00'],
    ['0001-01-01', '0001-01-01T00:00:00Z'],
    ['9999-12-31T23:59:59.999', '9999-12-31T23:59:59.999Z'],
    ['2026-01-01T10:00+0530', '2026-01-01T10:00+0530'],
  ])('takes %s', (text, normalised) => {
    expect(parseTimestamp(text)).toBe(normalised);
  });

  it.each([
    '2026-01-01T00:00:00+16:00',
    '2026-01-01T00:00:00-16:00',
    '2026-01-01T00:00:00+14:01',
    '2026-01-01T00:00:00+23:59',
    '0000-01-01',
    '-271821-04-20T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '10000-01-01',
    '2026-02-30',
  ])('refuses %s in a filter, since and until', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
    expect(fieldOf(() => compile({ submitted_at: { $gte: text } }))).toBe(
      'filter.submitted_at.$gte',
    );
    expect(fieldOf(() => compile({ 'data.meeting': { $lt: text } }))).toBe(
      'filter.data.meeting.$lt',
    );
    expect(fieldOf(() => parseBound('since', text))).toBe('since');
    expect(fieldOf(() => parseBound('until', text))).toBe('until');
  });

  it('reads since and until as instants, a date-only until to the end of its day', () => {
    expect(parseBound('since', '2026-03-01')?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parseBound('until', '2026-03-01')?.toISOString()).toBe('2026-03-01T23:59:59.999Z');
    expect(parseBound('since', '2026-03-01T10:00:00+14:00')?.toISOString()).toBe(
      '2026-02-28T20:00:00.000Z',
    );
  });
});

describe('time cursors', () => {
  const id = '0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b';
  it('takes what pageOf wrote', () => {
    const at = new Date('2026-11-28T10:00:00.123Z');
    expect(decodeTimeCursor(encodeCursor({ t: at.toISOString(), id }))).toEqual({ at, id });
  });

  it.each([
    '-271821-04-20T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '0000-06-01T00:00:00.000Z',
    '2026-02-30T00:00:00.000Z',
    '2026-01-01T00:00:00+16:00',
    'Sat, 28 Nov 2026 10:00:00 GMT',
  ])('refuses t = %s with a 400', (t) => {
    expect(fieldOf(() => decodeTimeCursor(encodeCursor({ t, id })))).toBe('cursor');
  });

  it('refuses an id that is not a UUID', () => {
    const t = '2026-11-28T10:00:00.000Z';
    expect(fieldOf(() => decodeTimeCursor(encodeCursor({ t, id: 'x' })))).toBe('cursor');
  });
});
