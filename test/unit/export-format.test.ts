import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  contentDisposition,
  csvHeader,
  csvRow,
  csvText,
  exportColumns,
  exportFileName,
  quoteCsv,
  UTF8_BOM,
  xlsxValue,
} from '../../src/exports/index.ts';
import type { Field } from '../../src/forms/index.ts';

const fields: Field[] = [
  { key: 'name', type: 'text' },
  { key: 'age', type: 'integer' },
  { key: 'likes', type: 'multiselect', options: ['a', 'b', 'c'] },
  { key: 'ok', type: 'boolean' },
  { key: 'born', type: 'date' },
];
const form = { fields, calculated_fields: [{ key: 'score', logic: { '+': [1, 1] } }] };

function row(data: Record<string, unknown>) {
  const at = new Date('2025-03-01T10:00:00.123Z');
  return {
    id: '0195f0b6-0000-7000-8000-000000000001',
    workspace_id: 'w',
    form_id: 'f',
    data,
    completed: true,
    metadata: {},
    submitted_at: at,
    updated_at: at,
    resume_token_hash: null,
    idempotency_hash: null,
  };
}

describe('export columns', () => {
  it('are id, submitted_at, completed, the fields in form order, then calculated fields', () => {
    expect(exportColumns(form).map((c) => c.key)).toEqual([
      'id',
      'submitted_at',
      'completed',
      'name',
      'age',
      'likes',
      'ok',
      'born',
      'score',
    ]);
  });
  it('are exactly fields= in its order after the three', () => {
    expect(exportColumns(form, ['score', 'name']).map((c) => c.key)).toEqual([
      'id',
      'submitted_at',
      'completed',
      'score',
      'name',
    ]);
  });
});

describe('CSV cells', () => {
  it('quotes only when needed and doubles quotes', () => {
    expect(quoteCsv('plain')).toBe('plain');
    expect(quoteCsv('a,b')).toBe('"a,b"');
    expect(quoteCsv('say "hi"')).toBe('"say ""hi"""');
    expect(quoteCsv('line\nbreak')).toBe('"line\nbreak"');
    expect(quoteCsv('cr\rhere')).toBe('"cr\rhere"');
    expect(quoteCsv('')).toBe('');
  });

  it('neutralises formulas, tabs and carriage returns at the start of text', () => {
    for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])
      expect(csvText(text)).toBe(`'${text}`);
    expect(csvText('a=1')).toBe('a=1');
    expect(csvText(-5)).toBe('-5');
    expect(csvText(['=evil', 'b'])).toBe("'=evil; b");
  });

  it('writes multiselect joined, booleans, numbers, objects as JSON, null as empty', () => {
    expect(csvText(['a', 'c'])).toBe('a; c');
    expect(csvText(true)).toBe('true');
    expect(csvText(false)).toBe('false');
    expect(csvText(1.5)).toBe('1.5');
    expect(csvText({ x: 1 })).toBe('{"x":1}');
    expect(csvText(null)).toBe('');
    expect(csvText(undefined)).toBe('');
  });

  it('ends lines with CRLF', () => {
    const columns = exportColumns(form, ['name']);
    expect(csvHeader(columns)).toBe('id,submitted_at,completed,name\r\n');
    expect(csvRow(columns, row({ name: 'x' }))).toBe(
      '0195f0b6-0000-7000-8000-000000000001,2025-03-01T10:00:00.123Z,true,x\r\n',
    );
  });

  it('round-trips tricky values through csv-parse', () => {
    const tricky = [
      'comma, here',
      'quote "q"',
      'multi\nline',
      'crlf\r\ninside',
      '=HYPERLINK("x")',
      'Ünïcödé 日本語 🎉',
      '  spaced  ',
      '@at',
      '\ttab',
    ];
    const columns = exportColumns(form, ['name', 'age', 'likes', 'ok']);
    const text =
      UTF8_BOM +
      csvHeader(columns) +
      tricky
        .map((name, i) =>
          csvRow(columns, row({ name, age: i, likes: ['a', 'b'], ok: i % 2 === 0 })),
        )
        .join('');
    const records = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(tricky.length);
    records.forEach((record, i) => {
      const expected = /^[=+\-@\t\r]/.test(tricky[i]!) ? `'${tricky[i]}` : tricky[i];
      expect(record.name).toBe(expected);
      expect(record.age).toBe(String(i));
      expect(record.likes).toBe('a; b');
      expect(record.ok).toBe(String(i % 2 === 0));
      expect(record.completed).toBe('true');
    });
    expect(text.startsWith('\uFEFFid,')).toBe(true);
  });
});

describe('XLSX values', () => {
  it('keeps types: numbers, booleans, dates, joined multiselect', () => {
    expect(xlsxValue('integer', 3)).toBe(3);
    expect(xlsxValue('boolean', false)).toBe(false);
    expect(xlsxValue('date', '2024-02-29')).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect(xlsxValue('datetime', '2024-02-29T12:30:00Z')).toEqual(new Date('2024-02-29T12:30:00Z'));
    expect(xlsxValue('multiselect', ['a', 'b'])).toBe('a; b');
    expect(xlsxValue('text', { a: 1 })).toBe('{"a":1}');
    expect(xlsxValue('date', 'not a date')).toBe('not a date');
    expect(xlsxValue('text', null)).toBeNull();
  });
});

describe('file names', () => {
  const day = new Date('2025-03-01T12:00:00Z');
  it('slugs the title and dates the file', () => {
    expect(exportFileName('Customer Survey: Q1!', day, 'csv')).toBe(
      'customer-survey-q1-2025-03-01.csv',
    );
    expect(exportFileName('???', day, 'xlsx')).toBe('export-2025-03-01.xlsx');
  });
  it('uses filename* for non-ASCII names', () => {
    expect(contentDisposition('survey-2025-03-01.csv')).toBe(
      'attachment; filename="survey-2025-03-01.csv"',
    );
    const name = exportFileName('Umfrage Müller', day, 'csv');
    expect(contentDisposition(name)).toBe(
      `attachment; filename="umfrage-muller-2025-03-01.csv"; filename*=UTF-8''umfrage-m%C3%BCller-2025-03-01.csv`,
    );
  });
});
