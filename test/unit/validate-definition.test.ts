import { describe, it, expect } from 'vitest';
import type { CalculatedField, Field, FieldType } from '../../src/forms/field.ts';
import { validateFormDefinition } from '../../src/forms/validate-definition.ts';

/** Validates a form whose only field is `field`. */
function one(field: Partial<Field> & { type: FieldType }) {
  return validateFormDefinition({ fields: [{ key: 'f', ...field }] });
}

const issue = (field: string, message: string) => [{ field, message }];

describe('validateFormDefinition', () => {
  it('accepts a full, valid definition', () => {
    const fields: Field[] = [
      { key: 'name', type: 'text', label: 'Name', required: true, min: 1, max: 80, max_length: 80 },
      { key: 'bio', type: 'textarea', pattern: '[\\p{L} ]*' },
      { key: 'email', type: 'email', max_length: 254 },
      { key: 'site', type: 'url', max_length: 2048 },
      { key: 'tel', type: 'phone', pattern: '\\+?[0-9 ]+', max_length: 20 },
      { key: 'score', type: 'number', min: -1.5, max: 1.5 },
      { key: 'age', type: 'integer', min: 0, max: 0 },
      { key: 'ok', type: 'boolean' },
      { key: 'day', type: 'date' },
      { key: 'at', type: 'datetime' },
      { key: 'size', type: 'select', options: ['S', 'M', 'L'] },
      { key: 'color', type: 'radio', options: ['red'] },
      { key: 'tags', type: 'multiselect', options: ['a', 'b'], min: 0, max: 2 },
      { key: 'stars', type: 'rating', max: 10 },
      { key: '_x9', type: 'rating' },
    ];
    const calculated_fields: CalculatedField[] = [
      { key: 'full', logic: { cat: [{ var: 'data.name' }, '!'] } },
      { key: 'list', logic: [1, 2] },
    ];
    expect(validateFormDefinition({ fields, calculated_fields })).toEqual([]);
  });

  it('limits a form to 500 fields', () => {
    const fields = (n: number): Field[] =>
      Array.from({ length: n }, (_, i) => ({ key: `f${i}`, type: 'text' }));
    expect(validateFormDefinition({ fields: fields(500) })).toEqual([]);
    expect(validateFormDefinition({ fields: fields(501) })).toEqual(
      issue('fields', 'must have at most 500 fields'),
    );
  });

  it.each(['', '1abc', 'a-b', 'a b', 'é', 'a'.repeat(65)])('rejects the key %j', (key) => {
    expect(validateFormDefinition({ fields: [{ key, type: 'text' }] })).toEqual(
      issue(
        'fields[0].key',
        'must be 1 to 64 letters, digits or underscores, not starting with a digit',
      ),
    );
  });

  it('accepts a 64-character key', () => {
    expect(one({ key: 'a'.repeat(64), type: 'text' })).toEqual([]);
  });

  it.each(['id', 'submitted_at', 'completed', 'form_id', '__proto__'])(
    'reserves the key %s',
    (key) => {
      expect(validateFormDefinition({ fields: [{ key, type: 'text' }] })).toEqual(
        issue('fields[0].key', `"${key}" is reserved`),
      );
      expect(
        validateFormDefinition({ fields: [], calculated_fields: [{ key, logic: {} }] }),
      ).toEqual(issue('calculated_fields[0].key', `"${key}" is reserved`));
    },
  );

  it('rejects duplicate keys across fields and calculated fields', () => {
    const issues = validateFormDefinition({
      fields: [
        { key: 'age', type: 'integer' },
        { key: 'name', type: 'text' },
        { key: 'age', type: 'text' },
      ],
      calculated_fields: [
        { key: 'name', logic: {} },
        { key: 'total', logic: {} },
        { key: 'total', logic: {} },
      ],
    });
    expect(issues).toEqual([
      { field: 'fields[2].key', message: 'duplicate key "age"' },
      { field: 'calculated_fields[0].key', message: 'duplicate key "name"' },
      { field: 'calculated_fields[2].key', message: 'duplicate key "total"' },
    ]);
  });

  describe('options', () => {
    it.each<[unknown, string]>([
      [undefined, 'must be a non-empty list of options'],
      [[], 'must be a non-empty list of options'],
      ['a,b', 'must be a non-empty list of options'],
      [['a', ''], 'each option must be a non-empty string'],
      [['a', 1], 'each option must be a non-empty string'],
      [['a', 'b', 'a'], 'duplicate option "a"'],
    ])('rejects %j on choice fields', (options, message) => {
      for (const type of ['select', 'radio', 'multiselect'] as const) {
        expect(one({ type, options: options as string[] })).toEqual(
          issue('fields[0].options', message),
        );
      }
    });

    it.each<FieldType>(['text', 'number', 'boolean', 'rating'])('are not allowed on %s', (type) => {
      expect(one({ type, options: ['a'] })).toEqual(
        issue('fields[0].options', `is not allowed on ${type} fields`),
      );
    });
  });

  describe('min and max', () => {
    it.each<FieldType>(['email', 'url', 'phone', 'boolean', 'date', 'datetime', 'select', 'radio'])(
      'are not allowed on %s',
      (type) => {
        const options = type === 'select' || type === 'radio' ? ['a'] : undefined;
        expect(one({ type, options, min: 1, max: 2 })).toEqual([
          { field: 'fields[0].min', message: `is not allowed on ${type} fields` },
          { field: 'fields[0].max', message: `is not allowed on ${type} fields` },
        ]);
      },
    );

    it.each<[FieldType, Partial<Field>, string, string]>([
      ['number', { min: '1' as unknown as number }, 'min', 'must be a number'],
      ['integer', { max: null as unknown as number }, 'max', 'must be a number'],
      ['number', { min: 2, max: 1 }, 'min', 'must not be greater than max'],
      ['integer', { min: 5, max: -5 }, 'min', 'must not be greater than max'],
      ['text', { min: -1 }, 'min', 'must be an integer of at least 0'],
      ['textarea', { max: 1.5 }, 'max', 'must be an integer of at least 0'],
      ['text', { min: 3, max: 2 }, 'min', 'must not be greater than max'],
      ['multiselect', { min: 0.5 }, 'min', 'must be an integer of at least 0'],
      ['multiselect', { min: 2, max: 1 }, 'min', 'must not be greater than max'],
      ['rating', { min: 1 }, 'min', 'is not allowed on rating fields (the scale starts at 1)'],
      ['rating', { max: 1 }, 'max', 'must be an integer from 2 to 10'],
      ['rating', { max: 11 }, 'max', 'must be an integer from 2 to 10'],
      ['rating', { max: 4.5 }, 'max', 'must be an integer from 2 to 10'],
    ])('%s with %j', (type, extra, property, message) => {
      const options = type === 'multiselect' ? ['a', 'b'] : undefined;
      expect(one({ type, options, ...extra })).toEqual(issue(`fields[0].${property}`, message));
    });

    it('accepts rating scales from 2 to 10', () => {
      expect(one({ type: 'rating', max: 2 })).toEqual([]);
      expect(one({ type: 'rating', max: 10 })).toEqual([]);
    });
  });

  describe('max_length', () => {
    it.each<FieldType>(['text', 'textarea', 'email', 'url', 'phone'])(
      'is allowed on %s',
      (type) => {
        expect(one({ type, max_length: 1 })).toEqual([]);
      },
    );

    it.each([0, -1, 1.5, '10'])('must be a positive integer, not %j', (maxLength) => {
      expect(one({ type: 'text', max_length: maxLength as number })).toEqual(
        issue('fields[0].max_length', 'must be a positive integer'),
      );
    });

    it.each<FieldType>(['number', 'date', 'rating'])('is not allowed on %s', (type) => {
      expect(one({ type, max_length: 10 })).toEqual(
        issue('fields[0].max_length', `is not allowed on ${type} fields`),
      );
    });
  });

  describe('pattern', () => {
    const RE2_SYNTAX = expect.stringMatching(
      /^must be a valid regular expression in RE2 syntax \(no backreferences or lookaround\): error parsing regexp/,
    ) as string;
    it.each<[unknown, string]>([
      ['(', RE2_SYNTAX],
      ['a)|(b', RE2_SYNTAX],
      ['(a)\\1', RE2_SYNTAX],
      ['(?=a)', RE2_SYNTAX],
      ['(?<!a)b', RE2_SYNTAX],
      ['[', RE2_SYNTAX],
      [5, 'must be a string'],
      ['a'.repeat(501), 'must be at most 500 characters'],
    ])('rejects %j', (pattern, message) => {
      expect(one({ type: 'text', pattern: pattern as string })).toEqual(
        issue('fields[0].pattern', message),
      );
    });

    it('accepts 500 characters and Unicode property escapes', () => {
      expect(one({ type: 'phone', pattern: 'a'.repeat(500) })).toEqual([]);
      expect(one({ type: 'textarea', pattern: '\\p{Lu}\\p{Ll}*' })).toEqual([]);
    });

    it.each<FieldType>(['email', 'url', 'number', 'date'])('is not allowed on %s', (type) => {
      expect(one({ type, pattern: '.*' })).toEqual(
        issue('fields[0].pattern', `is not allowed on ${type} fields`),
      );
    });
  });

  describe('calculated fields', () => {
    it.each([null, 'data.a', 42, true, undefined])('rejects the logic %j', (logic) => {
      expect(
        validateFormDefinition({ fields: [], calculated_fields: [{ key: 'c', logic }] }),
      ).toEqual(issue('calculated_fields[0].logic', 'must be a json-logic object or array'));
    });

    it('checks calculated keys like field keys', () => {
      const issues = validateFormDefinition({
        fields: [],
        calculated_fields: [{ key: '9lives', logic: {} }],
      });
      expect(issues).toEqual(
        issue(
          'calculated_fields[0].key',
          'must be 1 to 64 letters, digits or underscores, not starting with a digit',
        ),
      );
    });
  });

  it('reports every problem of a field, each at its own place', () => {
    const issues = validateFormDefinition({
      fields: [
        { key: 'ok', type: 'text' },
        { key: 'bad key', type: 'date', options: ['a'], min: 1, max_length: 3, pattern: 'x' },
      ],
    });
    expect(issues.map((i) => i.field)).toEqual([
      'fields[1].key',
      'fields[1].options',
      'fields[1].min',
      'fields[1].max_length',
      'fields[1].pattern',
    ]);
  });
});
