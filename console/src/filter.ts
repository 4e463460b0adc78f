import type { Field } from './types.ts';

/** One row of the export wizard's filter: a path, an operator and the text typed. */
export interface FilterRow {
  path: string;
  op: string;
  value: string;
}

export const OPERATORS: { op: string; label: string }[] = [
  { op: '$eq', label: 'equals' },
  { op: '$ne', label: 'does not equal' },
  { op: '$gt', label: 'greater than' },
  { op: '$gte', label: 'at least' },
  { op: '$lt', label: 'less than' },
  { op: '$lte', label: 'at most' },
  { op: '$contains', label: 'contains' },
  { op: '$in', label: 'is one of (comma-separated)' },
  { op: '$nin', label: 'is none of (comma-separated)' },
  { op: '$exists', label: 'is answered (true/false)' },
];

const NUMERIC = new Set(['number', 'integer', 'rating']);

/** Turns the text typed into the JSON value the DSL compares with, by the field's type. */
function valueOf(text: string, type: string | undefined): unknown {
  const trimmed = text.trim();
  if (type === 'boolean' || type === 'completed') {
    if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
    throw new Error(`"${text}" is not true or false`);
  }
  if (type && NUMERIC.has(type)) {
    const n = Number(trimmed);
    if (trimmed === '' || !Number.isFinite(n)) throw new Error(`"${text}" is not a number`);
    return n;
  }
  return trimmed;
}

/**
 * Builds the DSL filter from the rows: one condition per row, several rows ANDed.
 * Throws an Error naming the row when a value does not fit its field. Pure.
 */
export function buildFilter(
  rows: FilterRow[],
  fields: Field[],
): Record<string, unknown> | undefined {
  const types = new Map(fields.map((f) => [`data.${f.key}`, f.type]));
  types.set('completed', 'completed');
  const conditions = rows
    .filter((row) => row.path !== '')
    .map((row, index) => {
      const type = types.get(row.path);
      try {
        let value: unknown;
        if (row.op === '$exists') value = valueOf(row.value || 'true', 'boolean');
        else if (row.op === '$in' || row.op === '$nin')
          value = row.value.split(',').map((part) => valueOf(part, type));
        else value = valueOf(row.value, type);
        return { [row.path]: { [row.op]: value } };
      } catch (error) {
        throw new Error(`Filter row ${index + 1}: ${(error as Error).message}`);
      }
    });
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { $and: conditions };
}

/** The file name in a Content-Disposition header, if any. Pure. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ?? fallback;
}

const isPlain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value as the text a row shows: lists comma-separated, the rest as typed. */
function textOf(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(', ');
  return String(value);
}

/**
 * The rows that build `filter` back (the inverse of {@link buildFilter}), or `null` when
 * the filter uses more of the DSL than rows can show ($or, $not, nested objects): the
 * console then edits it as JSON. `undefined`/`null` (no filter) is no rows. Pure.
 */
export function rowsFromFilter(filter: unknown): FilterRow[] | null {
  if (filter === undefined || filter === null) return [];
  if (!isPlain(filter)) return null;
  const rows: FilterRow[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') {
      if (!Array.isArray(value)) return null;
      for (const member of value) {
        const inner = rowsFromFilter(member);
        if (inner === null) return null;
        rows.push(...inner);
      }
      continue;
    }
    if (key.startsWith('$')) return null;
    if (!isPlain(value)) {
      if (Array.isArray(value)) return null;
      rows.push({ path: key, op: '$eq', value: textOf(value) });
      continue;
    }
    for (const [op, operand] of Object.entries(value)) {
      if (!OPERATORS.some((o) => o.op === op)) return null;
      const listed = op === '$in' || op === '$nin';
      if (listed !== Array.isArray(operand) || isPlain(operand)) return null;
      // A list element that is not a plain value, or holds the separator, cannot be a row.
      if (
        listed &&
        (operand as unknown[]).some((v) => typeof v === 'object' || String(v).includes(','))
      )
        return null;
      rows.push({ path: key, op, value: textOf(operand) });
    }
  }
  return rows;
}

/** A filter in words ("data.dept is one of IT, HR and data.age at least 18"), or JSON. Pure. */
export function describeFilter(filter: unknown): string {
  if (filter === undefined || filter === null) return 'every event';
  const rows = rowsFromFilter(filter);
  if (rows === null) return JSON.stringify(filter);
  const label = (op: string) => OPERATORS.find((o) => o.op === op)?.label.replace(/ \(.*\)$/, '');
  return rows.map((row) => `${row.path} ${label(row.op)} ${row.value}`).join(' and ');
}
