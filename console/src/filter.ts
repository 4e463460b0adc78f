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
