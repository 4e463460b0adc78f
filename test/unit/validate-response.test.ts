import { describe, it, expect } from 'vitest';
import type { Field, FieldType } from '../../src/forms/field.ts';
import { compileValidator, validateResponseData } from '../../src/forms/validate-response.ts';

const OPTIONS = ['a', 'b', 'c'];

/** A field keyed `f`, with the options choice types need. */
function field(type: FieldType, extra: Partial<Field> = {}): Field {
  const choice = type === 'select' || type === 'radio' || type === 'multiselect';
  return { key: 'f', type, ...(choice ? { options: OPTIONS } : {}), ...extra };
}

function check(f: Field, value: unknown, completed = true) {
  return validateResponseData([f], [], { [f.key]: value }, { completed });
}

const DATE = 'must be a valid date (YYYY-MM-DD)';
const DATETIME = 'must be a valid date-time with a timezone (e.g. 2026-11-28T10:00:00Z)';
const EMAIL = 'must be a valid email address';
const URL_ = 'must be a valid http(s) URL';
const PHONE = 'must be a valid phone number';
const FORMAT = 'must match the expected format';
const ONE_OF = 'must be one of: a, b, c';
const RATING = 'must be an integer from 1 to 5';
const many = Array.from({ length: 12 }, (_, i) => `o${i + 1}`);

/** Fields, each with values it accepts. */
const VALID: [Field, unknown[]][] = [
  [field('text'), ['hello', 'x']],
  [field('text', { min: 2, max: 5 }), ['ab', 'abcde']],
  [field('text', { max: 2 }), ['😀😀']],
  [field('text', { max_length: 3 }), ['abc']],
  [field('text', { pattern: '\\p{L}+' }), ['héllo']],
  [field('textarea', { max: 20 }), ['line\nline']],
  [field('email'), ['a.b+c@example.co.uk', 'x@y.io']],
  [field('url'), ['https://example.com/path?q=1#x', 'http://localhost:3000/']],
  [field('phone'), ['+1 (555) 123-4567', '555.123.4567', '0612345678']],
  [field('phone', { pattern: '\\+33.*' }), ['+33 1 23 45 67 89']],
  [field('number'), [3.14, -2, 0, 1e21]],
  [field('number', { min: -5, max: 5 }), [-5, 5]],
  [field('integer', { min: 1, max: 100 }), [1, 42, 100]],
  [field('boolean'), [true, false]],
  [field('date'), ['2026-12-31', '2024-02-29', '2000-02-29']],
  [field('datetime'), ['2026-11-28T10:00:00Z', '2026-11-28T10:00:00.123+02:00']],
  [field('datetime'), ['2026-11-28T23:59-05:30', '2024-02-29T00:00:00.5-00:00']],
  [
    field('datetime'),
    ['2026-11-28T10:00:00+14:00', '2026-11-28T10:00:00-14:00', '2026-11-28T10:00:00+13:59'],
  ],
  [field('select'), ['a', 'c']],
  [field('radio'), ['b']],
  [field('multiselect'), [['a', 'c'], [], ['c', 'b', 'a']]],
  [field('multiselect', { min: 1, max: 2 }), [['c'], ['c', 'a']]],
  [field('rating'), [1, 3, 5]],
  [field('rating', { max: 10 }), [10]],
];

/** Fields, values they reject, and the one message they give. */
const INVALID: [Field, unknown[], string][] = [
  [field('text'), [5, true, ['x'], {}], 'must be a string'],
  [field('textarea'), [1], 'must be a string'],
  [field('text', { min: 2 }), ['a', '😀'], 'must be at least 2 characters'],
  [field('text', { max: 3 }), ['abcd'], 'must be at most 3 characters'],
  [field('text', { max_length: 3 }), ['😀😀😀😀', 'abcd'], 'must be at most 3 characters'],
  [field('text', { pattern: '[a-z]+' }), ['abc1', ' abc'], FORMAT],
  [field('text', { pattern: 'a|b' }), ['ab', 'xa'], FORMAT],
  [field('email'), ['a@b', 'a b@c.com', 'a@@b.com', 'a@b..com', '@b.com', 'a@.com'], EMAIL],
  [field('email'), ['x'.repeat(250) + '@a.com'], 'must be at most 254 characters'],
  [field('email', { max_length: 5 }), ['a@b.co'], 'must be at most 5 characters'],
  [field('url'), ['ftp://example.com', 'example.com', 'http://exa mple.com'], URL_],
  [field('url'), ['http://a.com\n', 'https://', 'javascript:alert(1)', ' http://a.com'], URL_],
  [field('url'), [`https://a.com/${'a'.repeat(2040)}`], 'must be at most 2048 characters'],
  [field('phone'), ['12345', '1'.repeat(21), '555 123 45a7', '1+5551234567'], PHONE],
  [field('phone'), ['(12) 34-56', '+-----------'], PHONE],
  [field('phone', { pattern: '\\+33.*' }), ['+1 555 123 4567'], FORMAT],
  [field('number'), ['3', '', NaN, Infinity, true, [1]], 'must be a number'],
  [field('number', { min: -5 }), [-6, -5.01], 'must be at least -5'],
  [field('number', { max: 10 }), [10.5], 'must be at most 10'],
  [field('integer'), [1.5, '2', NaN], 'must be an integer'],
  [field('integer', { max: 3 }), [4], 'must be at most 3'],
  [field('boolean'), ['true', 1, 0, ''], 'must be true or false'],
  [field('date'), ['2026-02-30', '1900-02-29', '2026-13-01', '2026-01-00', '0000-01-01'], DATE],
  [field('date'), ['2026-1-01', '2026-01-01T00:00:00Z', 20260101, ''], DATE],
  [field('datetime'), ['2026-11-28T10:00:00', '2026-11-28', '2026-02-30T10:00:00Z'], DATETIME],
  [field('datetime'), ['2026-11-28T24:00:00Z', '2026-11-28T10:60:00Z'], DATETIME],
  // Offsets past +-14:00: PostgreSQL's timestamptz refuses them (DESIGN.md 3a).
  [
    field('datetime'),
    ['2026-11-28T10:00:00+14:01', '2026-11-28T10:00:00+16:00', '2026-11-28T10:00:00-23:59'],
    DATETIME,
  ],
  [field('datetime'), ['2026-11-28 10:00:00Z', '2026-11-28T10:00:00+0200'], DATETIME],
  [field('datetime'), ['2026-11-28t10:00:00z', 1764324000000], DATETIME],
  [field('select'), ['z', 'A', 1, ['a']], ONE_OF],
  [field('radio'), ['z'], ONE_OF],
  [
    field('select', { options: many }),
    ['x'],
    `must be one of: ${many.slice(0, 10).join(', ')}, ...`,
  ],
  [field('multiselect'), ['a', { a: true }], 'must be a list of choices'],
  [
    field('multiselect'),
    [
      ['a', 'z'],
      ['a', 1],
    ],
    'each choice must be one of: a, b, c',
  ],
  [field('multiselect'), [['a', 'b', 'a'], Array(1000).fill('a')], 'must not repeat a choice'],
  [field('multiselect', { min: 2 }), [['a']], 'must have at least 2 choices'],
  [field('multiselect', { max: 1 }), [['a', 'b']], 'must have at most 1 choice'],
  [field('rating'), [0, 6, 3.5, '3', -1], RATING],
  [field('rating', { max: 10 }), [11], 'must be an integer from 1 to 10'],
];

describe('validateResponseData: values', () => {
  const valid = VALID.flatMap(([f, values]) => values.map((v) => [f.type, v, f] as const));
  it.each(valid)('%s accepts %j', (_type, value, f) => {
    expect(check(f, value)).toEqual([]);
  });

  const invalid = INVALID.flatMap(([f, values, message]) =>
    values.map((v) => [f.type, v, f, message] as const),
  );
  it.each(invalid)('%s rejects %j', (_type, value, f, message) => {
    expect(check(f, value)).toEqual([{ field: 'f', message }]);
  });

  it('finds a repeat among many distinct choices', () => {
    const options = Array.from({ length: 30 }, (_, i) => `o${i}`);
    const choices = [...options.slice(0, 20), 'o3'];
    expect(check(field('multiselect', { options }), choices)).toEqual([
      { field: 'f', message: 'must not repeat a choice' },
    ]);
    expect(check(field('multiselect', { options }), options.slice(0, 20))).toEqual([]);
  });
});

describe('validateResponseData: required and partial', () => {
  const required = (type: FieldType) => field(type, { required: true });

  it.each<[FieldType, unknown]>([
    ['text', undefined],
    ['text', null],
    ['text', ''],
    ['textarea', ''],
    ['email', ''],
    ['url', ''],
    ['phone', ''],
    ['number', null],
    ['boolean', undefined],
    ['date', null],
    ['select', null],
    ['multiselect', null],
    ['rating', undefined],
  ])('%s %j is required when completed, allowed when partial', (type, value) => {
    expect(check(required(type), value, true)).toEqual([{ field: 'f', message: 'is required' }]);
    expect(check(required(type), value, false)).toEqual([]);
  });

  it('treats an absent key as not answered', () => {
    const fields = [required('text')];
    expect(validateResponseData(fields, [], {}, { completed: true })).toEqual([
      { field: 'f', message: 'is required' },
    ]);
    expect(validateResponseData(fields, [], {}, { completed: false })).toEqual([]);
  });

  it.each<[FieldType, unknown]>([
    ['number', 0],
    ['boolean', false],
    ['multiselect', []],
  ])('counts %s %j as answered', (type, value) => {
    expect(check(required(type), value)).toEqual([]);
  });

  it('allows optional fields to be blank', () => {
    expect(check(field('text', { min: 3 }), '')).toEqual([]);
    expect(check(field('email'), '')).toEqual([]);
    expect(check(field('number'), null)).toEqual([]);
  });

  it('still checks the values a partial response sends', () => {
    expect(check(required('number'), 'x', false)).toEqual([
      { field: 'f', message: 'must be a number' },
    ]);
  });

  it('does not read required answers from the prototype', () => {
    const fields: Field[] = [{ key: 'constructor', type: 'text', required: true }];
    expect(validateResponseData(fields, [], {}, { completed: true })).toEqual([
      { field: 'constructor', message: 'is required' },
    ]);
  });
});

describe('validateResponseData: keys', () => {
  const fields: Field[] = [
    { key: 'name', type: 'text', required: true },
    { key: 'age', type: 'integer', min: 0 },
  ];

  it('rejects unknown and calculated keys, in form order then data order', () => {
    const data = { total: 3, extra: 'x', age: -1, name: 'Ann' };
    expect(validateResponseData(fields, ['total'], data, { completed: true })).toEqual([
      { field: 'age', message: 'must be at least 0' },
      { field: 'total', message: 'is calculated and cannot be set' },
      { field: 'extra', message: 'unknown field' },
    ]);
  });

  it('rejects unknown keys even when null, and __proto__ from JSON', () => {
    const data = JSON.parse('{"name": "Ann", "__proto__": 1, "nope": null}') as Record<
      string,
      unknown
    >;
    expect(validateResponseData(fields, [], data, { completed: true })).toEqual([
      { field: '__proto__', message: 'unknown field' },
      { field: 'nope', message: 'unknown field' },
    ]);
  });

  it('reports at most one issue per field', () => {
    const f = field('text', { max: 3, pattern: '[a-z]+' });
    expect(check(f, 'ABCDEF')).toEqual([{ field: 'f', message: 'must be at most 3 characters' }]);
    const issues = validateResponseData(
      fields,
      ['total'],
      { age: 'x', name: 7 },
      {
        completed: true,
      },
    );
    expect(issues.map((issue) => issue.field)).toEqual(['name', 'age']);
  });
});

describe('compileValidator', () => {
  it('is reusable across calls and returns fresh arrays', () => {
    const validate = compileValidator([field('integer', { required: true })], ['calc']);
    const first = validate({ f: 1.5 }, { completed: true });
    expect(first).toEqual([{ field: 'f', message: 'must be an integer' }]);
    expect(validate({ f: 2 }, { completed: true })).toEqual([]);
    expect(validate({ calc: 1 }, { completed: false })).toEqual([
      { field: 'calc', message: 'is calculated and cannot be set' },
    ]);
    expect(first).toHaveLength(1);
  });

  it('refuses every answer (422, not a 500) for a stored pattern RE2 cannot run', () => {
    const validate = compileValidator([field('text', { pattern: '(?=a)a' })], []);
    expect(validate({ f: 'a' }, { completed: true })).toEqual([
      { field: 'f', message: 'must match the expected format' },
    ]);
  });
});
