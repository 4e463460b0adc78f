import type { Field, FieldType, FormRow } from '../forms/index.ts';

/** What a column holds: a response attribute, a typed form field, or a calculated value. */
export type ColumnKind = 'id' | 'submitted_at' | 'completed' | FieldType | 'calculated';

/** One column of a tabular export (CSV, XLSX): its key (the header) and what it holds. */
export interface ExportColumn {
  key: string;
  kind: ColumnKind;
  /** True for `id`, `submitted_at`, `completed`: read from the response, not its data. */
  meta: boolean;
}

const META: ExportColumn[] = [
  { key: 'id', kind: 'id', meta: true },
  { key: 'submitted_at', kind: 'submitted_at', meta: true },
  { key: 'completed', kind: 'completed', meta: true },
];

/**
 * The columns of an export (DESIGN.md, "Exports and reports"): `id`, `submitted_at`,
 * `completed`, then the form's field keys in form order, then its calculated fields; with a
 * projection (`fields=`), exactly those keys in that order after the three.
 *
 * @example exportColumns(form, ['age']).map((c) => c.key) // ['id', 'submitted_at', 'completed', 'age']
 */
export function exportColumns(
  form: Pick<FormRow, 'fields' | 'calculated_fields'>,
  projection?: readonly string[],
): ExportColumn[] {
  const byKey = new Map<string, Field>(form.fields.map((f) => [f.key, f]));
  const keys = projection ?? [
    ...form.fields.map((f) => f.key),
    ...form.calculated_fields.map((c) => c.key),
  ];
  const data = keys.map((key): ExportColumn => ({
    key,
    kind: byKey.get(key)?.type ?? 'calculated',
    meta: false,
  }));
  return [...META, ...data];
}
