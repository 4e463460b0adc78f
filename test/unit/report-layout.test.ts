import { describe, expect, it } from 'vitest';
import type { Field } from '../../src/forms/index.ts';
import { describePeriod } from '../../src/reports/pdf/cover.ts';
import { formatDateTime, formatValue } from '../../src/reports/pdf/format-value.ts';
import { resolveFonts, toLatin1 } from '../../src/reports/pdf/fonts.ts';
import {
  choiceCharts,
  dailyChartKind,
  fillDailyGaps,
  shouldBreakBefore,
} from '../../src/reports/pdf/layout.ts';
import { responseRows } from '../../src/reports/pdf/response-block.ts';
import { DEFAULT_TEMPLATE } from '../../src/reports/pdf/template.ts';

const labels = DEFAULT_TEMPLATE.labels;

describe('report layout', () => {
  it('fills missing days with zero, in date order', () => {
    const series = fillDailyGaps([
      { date: '2025-03-04', count: 2 },
      { date: '2025-03-01', count: 5 },
    ]);
    expect(series).toEqual([
      { label: '03-01', value: 5 },
      { label: '03-02', value: 0 },
      { label: '03-03', value: 0 },
      { label: '03-04', value: 2 },
    ]);
    expect(fillDailyGaps([])).toEqual([]);
    expect(
      fillDailyGaps([
        { date: '2023-01-01', count: 1 },
        { date: '2024-06-01', count: 1 },
      ])[0]?.label,
    ).toBe('2023-01-01');
  });

  it('chooses the daily chart kind', () => {
    expect(dailyChartKind('auto', 30, 45)).toBe('bar');
    expect(dailyChartKind('auto', 90, 45)).toBe('line');
    expect(dailyChartKind('bar', 90, 45)).toBe('bar');
  });

  it('keeps blocks whole when they fit on a page, flows longer ones', () => {
    expect(shouldBreakBefore(100, 200, 700)).toBe(false);
    expect(shouldBreakBefore(300, 200, 700)).toBe(true);
    expect(shouldBreakBefore(1500, 200, 700)).toBe(false);
    expect(shouldBreakBefore(1500, 30, 700)).toBe(true);
  });

  it('charts choice fields in option order, with extra answers and Yes/No', () => {
    const fields: Field[] = [
      { key: 'name', type: 'text' },
      { key: 'size', type: 'select', label: 'Size', options: ['S', 'M', 'L'] },
      { key: 'ok', type: 'boolean' },
      { key: 'unused', type: 'radio', options: ['a'] },
    ];
    const charts = choiceCharts(
      { fields },
      {
        fields: {
          size: { answered: 9, counts: { L: 4, S: 2, XL: 3 } },
          ok: { answered: 2, counts: { true: 1, false: 1 } },
        },
      },
      10,
      labels,
    );
    expect(charts.map((c) => c.field.key)).toEqual(['size', 'ok']);
    expect(charts[0]?.data).toEqual([
      { label: 'S', value: 2 },
      { label: 'M', value: 0 },
      { label: 'L', value: 4 },
      { label: 'XL', value: 3 },
    ]);
    expect(charts[1]?.data.map((d) => d.label)).toEqual(['Yes', 'No']);
  });

  it('formats values and rows in form order, calculated fields last', () => {
    expect(formatValue(['a', 'b'], { type: 'multiselect' }, labels)).toBe('a, b');
    expect(formatValue(true, { type: 'boolean' }, labels)).toBe('Yes');
    expect(formatValue(false, undefined, labels)).toBe('No');
    expect(formatValue(undefined, undefined, labels)).toBe('—');
    expect(formatValue({ a: 1 }, undefined, labels)).toBe('{"a":1}');
    expect(formatValue(3.5, { type: 'number' }, labels)).toBe('3.5');
    const rows = responseRows(
      {
        fields: [
          { key: 'b', type: 'text', label: 'B' },
          { key: 'a', type: 'integer' },
        ],
        calculated_fields: [{ key: 'total', logic: {} }],
      },
      { data: { a: 1, total: 2, b: 'x' } },
      labels,
    );
    expect(rows).toEqual([
      { label: 'B', value: 'x' },
      { label: 'a', value: '1' },
      { label: 'total', value: '2' },
    ]);
  });

  it('formats dates in the template time zone and describes the period', () => {
    expect(formatDateTime(new Date(Date.UTC(2025, 2, 14, 9, 30)), 'en-GB', 'UTC')).toBe(
      '14 Mar 2025, 09:30 UTC',
    );
    expect(formatDateTime('not a date', 'en-GB', 'UTC')).toBe('not a date');
    const fmt = (d: Date) => d.toISOString().slice(0, 10);
    const since = new Date(Date.UTC(2025, 0, 1));
    expect(describePeriod({}, labels, fmt)).toBe('All time');
    expect(describePeriod({ since }, labels, fmt)).toBe('since 2025-01-01');
    expect(describePeriod({ since, until: since }, labels, fmt)).toBe('2025-01-01 – 2025-01-01');
  });

  it('falls back to Helvetica and Latin-1 when no font file exists', () => {
    const none = resolveFonts(['/a.ttf'], ['/b.ttf'], () => false);
    expect(none).toMatchObject({ regular: 'Helvetica', bold: 'Helvetica-Bold', builtin: true });
    expect(none.prepare('Zoë – Łódź Ольга 東京')).toBe('Zoë – ?ódz ????? ??');
    const some = resolveFonts(['/a.ttf', '/b.ttf'], [], (p) => p === '/b.ttf');
    expect(some).toMatchObject({ regular: '/b.ttf', bold: '/b.ttf', builtin: false });
    expect(some.prepare('Ольга')).toBe('Ольга');
    expect(toLatin1('€…')).toBe('€…');
  });
});
