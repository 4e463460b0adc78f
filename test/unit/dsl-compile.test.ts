import { describe, expect, it } from 'vitest';
import {
  compileFilter,
  compileQuery,
  FORM_ID_PLACEHOLDER,
  shapeResult,
  withFormId,
  type CompileContext,
} from '../../src/analytics/dsl/index.ts';
import { AppError } from '../../src/errors/index.ts';

const ctx: CompileContext = {
  fields: [
    { key: 'age', type: 'integer' },
    { key: 'name', type: 'text' },
    { key: 'department', type: 'select', options: ['IT', 'HR'] },
    { key: 'ok', type: 'boolean' },
    { key: 'tags', type: 'multiselect', options: ['a', 'b'] },
    { key: 'birthday', type: 'date' },
    { key: 'meeting', type: 'datetime' },
  ],
  calculatedKeys: ['total'],
};
const EVIL = "x'); DROP TABLE responses;--";

function compile(filter: unknown): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  return { sql: compileFilter(filter, ctx, params), params };
}

/** Asserts a 400 `invalid_request` whose first detail names `field`. */
function expect400(fn: () => unknown, field: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe('invalid_request');
  expect(appError.status).toBe(400);
  expect(appError.details[0]?.field).toBe(field);
}

describe('compileFilter: operators', () => {
  it('compares numbers numerically, only where the stored value is a number', () => {
    const { sql, params } = compile({ 'data.age': { $gt: 5 } });
    expect(sql).toBe(
      "(CASE WHEN jsonb_typeof((r.data -> $2::text)) = 'number' THEN (r.data ->> $2::text)::numeric > $1::numeric ELSE false END)",
    );
    expect(params).toEqual([5, 'age']);
  });

  it.each([
    ['$gte', '>='],
    ['$lt', '<'],
    ['$lte', '<='],
  ])('%s compiles to %s', (op, sqlOp) => {
    expect(compile({ 'data.age': { [op]: 1.5 } }).sql).toContain(`::numeric ${sqlOp} $1::numeric`);
  });

  it('treats a bare value as $eq, and several keys and operators as AND', () => {
    expect(compile({ 'data.age': 5 })).toEqual(compile({ 'data.age': { $eq: 5 } }));
    const { sql, params } = compile({ 'data.age': { $gte: 1, $lt: 9 }, 'data.name': 'bob' });
    expect(sql.match(/ AND /g)?.length).toBeGreaterThanOrEqual(2);
    expect(params).toEqual([1, 'age', 9, 'bob', 'name']);
  });

  it('matches missing or null for $eq null, and the negation for $ne', () => {
    const eq = compile({ 'data.age': null }).sql;
    expect(eq).toBe("(coalesce(jsonb_typeof((r.data -> $1::text)), 'null') = 'null')");
    expect(compile({ 'data.age': { $ne: null } }).sql).toBe(`(NOT ${eq})`);
    expect(compile({ 'data.age': { $ne: 3 } }).sql).toMatch(/^\(NOT \(CASE WHEN/);
  });

  it('compiles $in and $nin over a jsonb list, null meaning missing', () => {
    const { sql, params } = compile({ 'data.name': { $in: ['a', null, 'b'] } });
    expect(sql).toContain("coalesce(jsonb_typeof((r.data -> $1::text)), 'null') = 'null'");
    expect(sql).toContain('IN (SELECT e.value FROM jsonb_array_elements_text($2::jsonb) AS e)');
    expect(params).toEqual(['name', '["a","b"]']);
    expect(compile({ 'data.age': { $nin: [1, 2] } }).sql).toMatch(/^\(NOT .*e\.value::numeric/);
    expect(compile({ 'data.age': { $in: [] } })).toEqual({ sql: 'false', params: [] });
  });

  it('compiles $exists as presence of the key (null counts as present)', () => {
    expect(compile({ 'data.age': { $exists: true } }).sql).toBe(
      '((r.data -> $1::text) IS NOT NULL)',
    );
    expect(compile({ 'data.age': { $exists: false } }).sql).toBe('((r.data -> $1::text) IS NULL)');
    expect(compile({ submitted_at: { $exists: false } })).toEqual({ sql: 'false', params: [] });
  });

  it('compiles $contains as strpos on text and as element of a multiselect', () => {
    const text = compile({ 'data.name': { $contains: '50%_off' } });
    expect(text.sql).toContain('strpos((r.data ->> $2::text), $1::text) > 0');
    expect(text.sql).not.toContain('LIKE');
    expect(text.params).toEqual(['50%_off', 'name']);
    const tags = compile({ 'data.tags': { $contains: 'a' } });
    expect(tags.sql).toContain(
      "= 'array' THEN (r.data -> $2::text) @> jsonb_build_array($1::text)",
    );
    expect(compile({ 'data.total': { $contains: 'a' } }).sql).toContain(
      "WHEN 'string' THEN strpos",
    );
  });

  it('compares multiselects by element or as a whole list', () => {
    expect(compile({ 'data.tags': 'a' }).sql).toContain('@> jsonb_build_array($2::text)');
    expect(compile({ 'data.tags': ['a', 'b'] }).params).toEqual(['tags', '["a","b"]']);
    expect(compile({ 'data.tags': { $in: ['a'] } }).sql).toContain(
      '?| ARRAY(SELECT jsonb_array_elements_text($1::jsonb))',
    );
  });

  it('compares dates and timestamps as instants, normalised to UTC', () => {
    const birthday = compile({ 'data.birthday': { $gte: '2026-01-01' } });
    expect(birthday.sql).toContain(
      "((r.data ->> $2::text) || 'T00:00:00Z')::timestamptz >= $1::timestamptz",
    );
    expect(birthday.params[0]).toBe('2026-01-01T00:00:00Z');
    expect(compile({ submitted_at: { $lt: '2026-01-01T10:00:00' } })).toEqual({
      sql: '(r.submitted_at < $1::timestamptz)',
      params: ['2026-01-01T10:00:00Z'],
    });
    expect(compile({ updated_at: { $gt: '2026-01-01T10:00:00.5+02:00' } }).params).toEqual([
      '2026-01-01T10:00:00.5+02:00',
    ]);
    expect(compile({ 'data.meeting': { $lt: '2028-02-29T00:00Z' } }).params[0]).toBe(
      '2028-02-29T00:00Z',
    );
    expect400(
      () => compile({ 'data.meeting': { $lt: '2026-02-29T00:00Z' } }),
      'filter.data.meeting.$lt',
    );
  });

  it('compares booleans and text with their own types', () => {
    expect(compile({ completed: true })).toEqual({
      sql: '(r.completed = $1::boolean)',
      params: [true],
    });
    expect(compile({ 'data.ok': false }).sql).toContain(
      "= 'boolean' THEN (r.data ->> $2::text)::boolean = $1::boolean",
    );
    expect(compile({ 'data.name': { $gt: 'm' } }).sql).toContain('COLLATE "C" > $1::text');
  });

  it('gives calculated fields the type of the value they are compared with', () => {
    expect(compile({ 'data.total': { $gt: 3 } }).sql).toContain("= 'number'");
    expect(compile({ 'data.total': { $gt: 'x' } }).sql).toContain("= 'string'");
    const mixed = compile({ 'data.total': { $in: [1, 'x'] } });
    expect(mixed.params).toEqual(['[1]', 'total', '["x"]']);
  });

  it('compiles $and, $or and both forms of $not', () => {
    const or = compile({ $or: [{ 'data.age': 1 }, { completed: true }] }).sql;
    expect(or).toMatch(/^\(\(CASE .* OR \(r\.completed = \$3::boolean\)\)$/);
    expect(compile({ $and: [{ completed: true }, { completed: false }] }).sql).toBe(
      '((r.completed = $1::boolean) AND (r.completed = $2::boolean))',
    );
    expect(compile({ $not: { completed: true } }).sql).toBe('(NOT (r.completed = $1::boolean))');
    expect(compile({ completed: { $not: { $eq: true } } }).sql).toBe(
      '(NOT (r.completed = $1::boolean))',
    );
    expect(compile({}).sql).toBe('true');
  });
});

describe('compileFilter: 400s', () => {
  it.each([
    [null, 'filter'],
    [[], 'filter'],
    ['completed', 'filter'],
    [{ $nor: [] }, 'filter.$nor'],
    [{ $and: [] }, 'filter.$and'],
    [{ $or: [{ completed: true }, 5] }, 'filter.$or[1]'],
    [{ $not: 5 }, 'filter.$not'],
    [{ foo: 1 }, 'filter.foo'],
    [{ 'data.nope': 1 }, 'filter.data.nope'],
    [{ 'data.age.x': 1 }, 'filter.data.age.x'],
    [{ 'data.age': { $regex: 'a' } }, 'filter.data.age.$regex'],
    [{ 'data.age': { $gt: 'abc' } }, 'filter.data.age.$gt'],
    [{ 'data.age': { $gt: null } }, 'filter.data.age.$gt'],
    [{ 'data.age': { $eq: '5' } }, 'filter.data.age.$eq'],
    [{ 'data.age': { $in: 5 } }, 'filter.data.age.$in'],
    [{ 'data.age': { $in: [1, 'x'] } }, 'filter.data.age.$in[1]'],
    [{ 'data.age': { $exists: 'yes' } }, 'filter.data.age.$exists'],
    [{ 'data.age': { $contains: '1' } }, 'filter.data.age.$contains'],
    [{ 'data.name': { $contains: 1 } }, 'filter.data.name.$contains'],
    [{ 'data.ok': { $gt: true } }, 'filter.data.ok.$gt'],
    [{ 'data.tags': { $lt: 'a' } }, 'filter.data.tags.$lt'],
    [{ 'data.tags': { $in: [['a']] } }, 'filter.data.tags.$in[0]'],
    [{ 'data.age': { $not: 5 } }, 'filter.data.age.$not'],
    [{ 'data.age': { $gt: 1, x: 2 } }, 'filter.data.age'],
    [{ 'data.age': {} }, 'filter.data.age'],
    [{ submitted_at: { $gte: 'yesterday' } }, 'filter.submitted_at.$gte'],
    [{ submitted_at: { $gte: '2026-02-30' } }, 'filter.submitted_at.$gte'],
    [{ 'data.birthday': { $gte: '2026-01-01T25:00:00Z' } }, 'filter.data.birthday.$gte'],
    [{ completed: 'yes' }, 'filter.completed'],
    [{ 'data.total': { $eq: {} } }, 'filter.data.total.$eq'],
    [{ 'data.total': { a: 1 } }, 'filter.data.total'],
  ])('refuses %j naming %s', (filter, field) => {
    expect400(() => compile(filter), field);
  });

  it('names the offending part inside logical operators', () => {
    expect400(
      () => compile({ $and: [{ completed: true }, { $or: [{ 'data.age': { $gt: 'x' } }] }] }),
      'filter.$and[1].$or[0].data.age.$gt',
    );
  });

  it('refuses filters nested deeper than 32 levels', () => {
    let filter: unknown = { completed: true };
    for (let i = 0; i < 40; i++) filter = { $not: filter };
    expect(() => compile(filter)).toThrow(AppError);
  });
});

describe('no user text becomes SQL', () => {
  it.each([
    { [`data.${EVIL}`]: 1 },
    { [EVIL]: 1 },
    { 'data.age': { [EVIL]: 1 } },
    { [`$${EVIL}`]: 1 },
  ])('refuses an injection attempt in a path or operator: %j', (filter) => {
    expect(() => compile(filter)).toThrow(AppError);
  });

  it('carries malicious values as parameters only', () => {
    const filters = [
      { 'data.name': EVIL },
      { 'data.name': { $contains: EVIL, $gt: EVIL, $in: [EVIL, null] } },
      { 'data.tags': { $contains: EVIL, $eq: [EVIL], $nin: [EVIL] } },
      { 'data.total': { $ne: EVIL } },
      { $or: [{ 'data.department': { $not: { $eq: EVIL } } }] },
    ];
    for (const filter of filters) {
      const { sql, params } = compile(filter);
      expect(sql).not.toContain('DROP');
      expect(JSON.stringify(params)).toContain('DROP TABLE');
    }
  });

  it('refuses injection attempts in a query’s aggregate, field, group_by and limit', () => {
    expect400(() => compileQuery({ aggregate: EVIL }, ctx), 'aggregate');
    expect400(() => compileQuery({ aggregate: 'sum', field: `data.${EVIL}` }, ctx), 'field');
    expect400(
      () => compileQuery({ aggregate: 'count', group_by: [`data.${EVIL}`] }, ctx),
      'group_by[0]',
    );
    const trunc = { date_trunc: EVIL, field: 'submitted_at' };
    expect400(
      () => compileQuery({ aggregate: 'count', group_by: trunc }, ctx),
      'group_by.date_trunc',
    );
    expect400(
      () => compileQuery({ aggregate: 'count', group_by: 'completed', limit: EVIL }, ctx),
      'limit',
    );
    const compiled = compileQuery({ aggregate: 'count', filter: { 'data.name': EVIL } }, ctx);
    expect(compiled.sql).not.toContain('DROP');
  });
});

describe('compileQuery', () => {
  it('reserves $1 for the form id and covers live responses only', () => {
    const { sql, params, shape } = compileQuery({ aggregate: 'count' }, ctx);
    expect(sql).toBe(
      'WITH src AS (SELECT r.id AS id, NULL::integer AS x FROM responses r WHERE r.form_id = $1 AND NOT r.deleted AND true) SELECT count(*) AS value FROM src',
    );
    expect(params).toEqual([FORM_ID_PLACEHOLDER]);
    expect(shape).toEqual({ levels: 0, value: 'number', limited: false });
    expect(withFormId(params, 'f-1')).toEqual(['f-1']);
    expect(() => withFormId(['x'], 'f-1')).toThrow();
  });

  it.each([
    [
      'count_distinct',
      'data.name',
      'count(DISTINCT x)',
      "NULLIF((r.data -> $2::text), 'null'::jsonb)",
    ],
    ['sum', 'data.age', 'coalesce(sum(x), 0)::float8', '::numeric END'],
    ['avg', 'data.age', 'avg(x)::float8', '::numeric END'],
    ['min', 'data.age', 'min(x)::float8', '::numeric END'],
    [
      'max',
      'data.meeting',
      `to_char(max(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
      '::timestamptz END',
    ],
    [
      'min',
      'data.birthday',
      `to_char(min(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
      "|| 'T00:00:00Z')::timestamptz END",
    ],
    ['max', 'submitted_at', 'max(x)', 'r.submitted_at AS x'],
  ])('%s of %s', (aggregate, field, outer, input) => {
    const { sql, params } = compileQuery({ aggregate, field }, ctx);
    expect(sql).toContain(outer);
    expect(sql).toContain(input);
    expect(params[0]).toBe(FORM_ID_PLACEHOLDER);
  });

  it('groups by a path, a multiselect (once per choice), a period and nested paths', () => {
    const byPath = compileQuery({ aggregate: 'count', group_by: 'data.department' }, ctx);
    expect(byPath.sql).toContain(
      'trim_scale((r.data ->> $2::text)::numeric)::text ELSE (r.data ->> $2::text) END AS g0',
    );
    expect(byPath.sql).toContain('GROUP BY g0 ORDER BY g0 COLLATE "C" NULLS LAST');
    const byTag = compileQuery({ aggregate: 'count', group_by: 'data.tags' }, ctx).sql;
    expect(byTag).toContain(
      'LEFT JOIN LATERAL (SELECT DISTINCT e.value FROM jsonb_array_elements_text(',
    );
    const byWeek = compileQuery(
      { aggregate: 'count', group_by: { date_trunc: 'week', field: 'submitted_at' } },
      ctx,
    );
    expect(byWeek.sql).toContain(
      `to_char(date_trunc('week', r.submitted_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS g0`,
    );
    const nested = compileQuery(
      { aggregate: 'count', group_by: ['data.department', 'completed', 'data.tags'] },
      ctx,
    );
    expect(nested.shape.levels).toBe(3);
    expect(nested.sql).toContain('r.completed::text AS g1');
  });

  it('keeps the top N groups by the aggregate, of the first level when nested', () => {
    const one = compileQuery({ aggregate: 'count', group_by: 'data.department', limit: 5 }, ctx);
    expect(one.sql).toContain(
      'ORDER BY value DESC NULLS LAST, g0 COLLATE "C" NULLS LAST LIMIT $3::integer',
    );
    expect(one.params).toEqual([FORM_ID_PLACEHOLDER, 'department', 5]);
    expect(one.shape.limited).toBe(true);
    const two = compileQuery(
      { aggregate: 'count', group_by: ['data.department', 'completed'], limit: 2 },
      ctx,
    );
    expect(two.sql).toContain(
      ', top AS (SELECT g0, count(*) AS rank FROM (SELECT DISTINCT id, g0, x FROM src)',
    );
  });

  it.each([
    [null, 'query'],
    [{ aggregate: 'count', extra: 1 }, 'extra'],
    [{}, 'aggregate'],
    [{ aggregate: 'median', field: 'data.age' }, 'aggregate'],
    [{ aggregate: 'count', field: 'data.age' }, 'field'],
    [{ aggregate: 'sum' }, 'field'],
    [{ aggregate: 'sum', field: 'data.name' }, 'field'],
    [{ aggregate: 'avg', field: 'data.birthday' }, 'field'],
    [{ aggregate: 'min', field: 'data.name' }, 'field'],
    [{ aggregate: 'max', field: 'completed' }, 'field'],
    [{ aggregate: 'count', group_by: [] }, 'group_by'],
    [
      { aggregate: 'count', group_by: ['completed', 'completed', 'completed', 'completed'] },
      'group_by',
    ],
    [{ aggregate: 'count', group_by: 5 }, 'group_by'],
    [{ aggregate: 'count', group_by: 'submitted_at' }, 'group_by'],
    [{ aggregate: 'count', group_by: ['completed', 'data.nope'] }, 'group_by[1]'],
    [
      { aggregate: 'count', group_by: { date_trunc: 'year', field: 'submitted_at' } },
      'group_by.date_trunc',
    ],
    [{ aggregate: 'count', group_by: { date_trunc: 'day', field: 'data.age' } }, 'group_by.field'],
    [
      { aggregate: 'count', group_by: { date_trunc: 'day', field: 'submitted_at', x: 1 } },
      'group_by.x',
    ],
    [{ aggregate: 'count', group_by: 'completed', limit: 0 }, 'limit'],
    [{ aggregate: 'count', group_by: 'completed', limit: 1001 }, 'limit'],
    [{ aggregate: 'count', group_by: 'completed', limit: 1.5 }, 'limit'],
    [{ aggregate: 'count', limit: 3 }, 'limit'],
    [{ aggregate: 'count', filter: { 'data.age': { $gt: 'x' } } }, 'filter.data.age.$gt'],
  ])('refuses %j naming %s', (query, field) => {
    expect400(() => compileQuery(query, ctx), field);
  });
});

describe('shapeResult', () => {
  const shape = (levels: number, value: 'number' | 'text' = 'number', limited = false) => ({
    levels,
    value,
    limited,
  });

  it('returns a single value without group_by, numbers as numbers', () => {
    expect(shapeResult([{ value: '450' }], shape(0))).toBe(450);
    expect(shapeResult([{ value: 2.5 }], shape(0))).toBe(2.5);
    expect(shapeResult([{ value: null }], shape(0))).toBeNull();
    expect(shapeResult([{ value: '2026-11-28' }], shape(0, 'text'))).toBe('2026-11-28');
  });

  it('keys one level by group, a missing value under "null"', () => {
    const rows = [
      { g0: 'HR', value: 320 },
      { g0: 'IT', value: 450 },
      { g0: null, value: 3 },
    ];
    expect(shapeResult(rows, shape(1))).toEqual({ HR: 320, IT: 450, null: 3 });
  });

  it('nests one object per level, and keeps the order of the rows', () => {
    const rows = [
      { g0: 'IT', g1: 'approved', value: 3 },
      { g0: 'IT', g1: null, value: 1 },
      { g0: 'HR', g1: 'approved', value: 2 },
    ];
    const result = shapeResult(rows, shape(2, 'number', true));
    expect(result).toEqual({ IT: { approved: 3, null: 1 }, HR: { approved: 2 } });
    expect(Object.keys(result as object)).toEqual(['IT', 'HR']);
  });

  it('keys periods as date_trunc renders them', () => {
    const rows = [
      { g0: '2026-11', g1: '2026-11-23', g2: '2026-11-28T10:00:00Z', value: 4 },
      { g0: '2026-12', g1: '2026-11-30', g2: '2026-12-01T00:00:00Z', value: 1 },
    ];
    expect(shapeResult(rows, shape(3))).toEqual({
      '2026-11': { '2026-11-23': { '2026-11-28T10:00:00Z': 4 } },
      '2026-12': { '2026-11-30': { '2026-12-01T00:00:00Z': 1 } },
    });
  });

  it('stores a group named __proto__ as a plain key', () => {
    const result = shapeResult([{ g0: '__proto__', value: 1 }], shape(1)) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
    expect(JSON.stringify(result)).toBe('{"__proto__":1}');
  });

  it('returns an empty object when no response matches', () => {
    expect(shapeResult([], shape(1))).toEqual({});
  });
});
