import type { FieldType, FormRow } from '../forms/index.ts';

/** What a calculated field is listed as: its value has no declared type. */
export const CALCULATED = 'calculated' as const;

/** One key of a form's flat payload, as the Zapier app names and types it. */
export interface ZapierField {
  key: string;
  /** The field's label, or its key when it has none (calculated fields never have one). */
  label: string;
  type: FieldType | typeof CALCULATED;
}

/**
 * The data keys of a form's flat payload, in form order, then its calculated fields: what a
 * Zapier user maps after the fixed `id`, `form_id` and `submitted_at` (the app adds those).
 *
 * @example fieldsOf(form) // [{ key: 'email', label: 'Your email', type: 'email' }, ...]
 */
export function fieldsOf(form: Pick<FormRow, 'fields' | 'calculated_fields'>): ZapierField[] {
  return [
    ...form.fields.map((f) => ({ key: f.key, label: f.label || f.key, type: f.type })),
    ...form.calculated_fields.map((c) => ({ key: c.key, label: c.key, type: CALCULATED })),
  ];
}
