/**
 * CSV rows (RFC 4180), pure: no I/O. A cell is quoted when it holds a comma, a double quote,
 * CR or LF; quotes are doubled; lines end with CRLF. Text that a spreadsheet would run as a
 * formula (starting with `= + - @`, a tab or a carriage return) is prefixed with `'`.
 */

import type { ExportColumn } from './columns.ts';
import { cellOf, type ExportRow } from './cell-values.ts';

/** UTF-8 byte order mark: lets Excel detect the encoding of a CSV file. */
export const UTF8_BOM = '\uFEFF';

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** Text a spreadsheet could read as a formula, made inert by a leading `'`. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One CSV field: quoted (with doubled quotes) only when it must be. */
export function quoteCsv(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line, CRLF included, from cell texts. */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(quoteCsv).join(',')}\r\n`;
}

/**
 * A value as CSV text: null and absent are empty; arrays (multiselect) joined with `; `;
 * booleans `true`/`false`; numbers as JavaScript prints them; objects as JSON; strings as
 * they are but formula-neutralised (numbers and booleans cannot be formulas, so `-5` stays).
 */
export function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return neutraliseFormula(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return neutraliseFormula(value.map(itemText).join('; '));
  return neutraliseFormula(JSON.stringify(value));
}

function itemText(item: unknown): string {
  return typeof item === 'string' ? item : JSON.stringify(item);
}

/** The header line: the column keys. */
export function csvHeader(columns: readonly ExportColumn[]): string {
  return csvLine(columns.map((c) => neutraliseFormula(c.key)));
}

/** One response as a CSV line, cells in column order. */
export function csvRow(columns: readonly ExportColumn[], row: ExportRow): string {
  return csvLine(columns.map((c) => csvText(cellOf(c, row))));
}
