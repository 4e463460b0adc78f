import { describe, expect, it } from 'vitest';
import type { Field } from '../../src/forms/index.ts';
import { searchWhere } from '../../src/zapier/search.ts';

const form = {
  fields: [
    { key: 'name', type: 'text' },
    { key: 'age', type: 'integer' },
    { key: 'score', type: 'number' },
    { key: 'ok', type: 'boolean' },
    { key: 'tags', type: 'multiselect', options: ['a', 'Mixed'] },
    { key: 'dept', type: 'select', options: ['IT', 'HR'] },
    { key: 'born', type: 'date' },
    { key: 'seen', type: 'datetime' },
  ] as Field[],
  calculated_fields: [{ key: 'total', logic: 1 }],
};

/** The SQL and the values a search adds after the listing's own first parameter. */
function compiled(field: string, value: string) {
  const params: unknown[] = ['form-id'];
  const sql = searchWhere(form, field, value)(params);
  return { sql, values: params.slice(1) };
}

const containment = (json: unknown) => ({
  sql: 'r.data @> $2::jsonb',
  values: [JSON.stringify(json)],
});

describe('searchWhere: what "Find Response" asks PostgreSQL', () => {
  it('numbers, booleans, options and dates are JSON containment, which the GIN index serves', () => {
    expect(compiled('age', ' 36 ')).toEqual(containment({ age: 36 }));
    expect(compiled('score', '-0.5e1')).toEqual(containment({ score: -5 }));
    expect(compiled('ok', 'YES')).toEqual(containment({ ok: true }));
    expect(compiled('ok', '0')).toEqual(containment({ ok: false }));
    expect(compiled('tags', 'mixed')).toEqual(containment({ tags: ['Mixed'] }));
    expect(compiled('tags', 'zzz')).toEqual(containment({ tags: ['zzz'] }));
    expect(compiled('dept', 'hr')).toEqual(containment({ dept: 'HR' }));
    expect(compiled('born', '2026-01-15T23:00:00-05:00')).toEqual(
      containment({ born: '2026-01-15' }),
    );
  });

  it('text, an unknown option and calculated fields compare whole and caseless; values stay parameters', () => {
    const caseless = (key: string, value: string) => ({
      sql: 'lower(r.data ->> $2::text) = lower($3::text)',
      values: [key, value],
    });
    expect(compiled('name', "Ada'; DROP TABLE responses; --")).toEqual(
      caseless('name', "Ada'; DROP TABLE responses; --"),
    );
    expect(compiled('dept', 'Sales')).toEqual(caseless('dept', 'Sales'));
    expect(compiled('total', '36')).toEqual(caseless('total', '36'));
  });

  it('a date-time compares as an instant, through the DSL', () => {
    const { sql, values } = compiled('seen', '2026-01-15T10:00:00+01:00');
    expect(sql).toContain('::timestamptz');
    expect(values).toContain('2026-01-15T10:00:00+01:00');
  });

  it('refuses an unknown field or a value its type cannot read, naming which', () => {
    const detailOf = (field: string, value: string) => {
      try {
        compiled(field, value);
      } catch (error) {
        const e = error as { code: string; details: { field: string }[] };
        return [e.code, e.details.map((d) => d.field)];
      }
      return undefined;
    };
    expect(detailOf('nope', 'x')).toEqual(['validation_failed', ['field']]);
    expect(detailOf('id', 'x')).toEqual(['validation_failed', ['field']]);
    for (const [field, value] of [
      ['age', 'forty'],
      ['age', ''],
      ['age', 'Infinity'],
      ['age', '0x10'],
      ['ok', 'maybe'],
      ['born', '2026-02-30'],
      ['seen', 'now'],
    ] as const)
      expect(detailOf(field, value), `${field}=${value}`).toEqual(['validation_failed', ['value']]);
  });
});
