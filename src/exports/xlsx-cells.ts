/**
 * Typed spreadsheet values, pure: numbers stay numbers, booleans booleans, `date` fields,
 * `datetime` fields and `submitted_at` become dates (UTC), multiselect answers are joined.
 */

import type { ColumnKind, ExportColumn } from './columns.ts';
import { cellOf, type ExportRow } from './cell-values.ts';

/** What a spreadsheet cell holds. */
export type XlsxValue = string | number | boolean | Date | null;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const NUMERIC: ReadonlySet<ColumnKind> = new Set(['number', 'integer', 'rating']);

/** The Excel number format of a column, when it holds dates. */
export function xlsxNumberFormat(kind: ColumnKind): string | undefined {
  if (kind === 'date') return 'yyyy-mm-dd';
  if (kind === 'datetime' || kind === 'submitted_at') return 'yyyy-mm-dd hh:mm:ss';
  return undefined;
}

/** A value as a typed cell; text that does not fit its column's type is kept as text. */
export function xlsxValue(kind: ColumnKind, value: unknown): XlsxValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('; ');
  if (typeof value !== 'string') return JSON.stringify(value);
  if (kind === 'date' || kind === 'datetime') return parseDate(value) ?? value;
  if (NUMERIC.has(kind) && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return value;
}

function parseDate(text: string): Date | undefined {
  const date = new Date(DATE_ONLY.test(text) ? `${text}T00:00:00.000Z` : text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** One response as typed cells, in column order. */
export function xlsxRow(columns: readonly ExportColumn[], row: ExportRow): XlsxValue[] {
  return columns.map((c) => xlsxValue(c.kind, cellOf(c, row)));
}
