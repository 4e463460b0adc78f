/** The field types a form may declare (DESIGN.md, "Forms"). */
export const FIELD_TYPES = [
  'text',
  'textarea',
  'email',
  'url',
  'phone',
  'number',
  'integer',
  'boolean',
  'date',
  'datetime',
  'select',
  'radio',
  'multiselect',
  'rating',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

/** A field key: a letter or underscore, then up to 63 letters, digits or underscores. */
export const FIELD_KEY_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

/** One question of a form, as stored and as served. */
export interface Field {
  key: string;
  type: FieldType;
  label?: string;
  required?: boolean;
  options?: string[];
  min?: number;
  max?: number;
  max_length?: number;
  pattern?: string;
}

/** A value computed from the answers with json-logic and stored under `key`. */
export interface CalculatedField {
  key: string;
  logic: unknown;
}

/** One problem with one field, as carried in an error's `details`. */
export interface FieldIssue {
  field: string;
  message: string;
}
