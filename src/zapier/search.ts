import { compileFilter, parseTimestamp } from '../analytics/index.ts';
import { validationFailed } from '../errors/index.ts';
import type { Field, FormRow } from '../forms/index.ts';

/** The most responses one "Find Response" answers: Zapier uses the first, or a few. */
export const SEARCH_LIMIT = 10;

/** A SQL condition over `responses r`; it pushes its values onto `params` and names them `$n`. */
export type SearchWhere = (params: unknown[]) => string;

const NUMBER_RE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(['true', 'yes', '1']);
const FALSE = new Set(['false', 'no', '0']);

/**
 * The condition of `GET /zapier/forms/:id/responses?field=&value=`: `value` (always text, as
 * Zapier sends it) matched against the stored answer of `field`, the way the field's type
 * reads it. Pure; one SQL condition, added to the listing's query.
 *
 * - number, integer, rating: numeric equality (`"36"` finds 36 and 36.0);
 * - boolean: `true`/`yes`/`1` or `false`/`no`/`0`, any case;
 * - multiselect: responses whose list holds that option;
 * - select, radio: the option, any case;
 * - date: that day (a date-time value is cut to its date); datetime: the same instant;
 * - text, textarea, email, url, phone and calculated fields: the whole value, any case.
 *
 * Numbers, booleans, multiselects, dates and known options are JSON containment
 * (`r.data @> ...`), which the GIN index on `data` serves; case-insensitive text cannot use
 * it, so it walks the form's responses newest first until a page is found, under
 * QUERY_TIMEOUT like every listing.
 *
 * @throws AppError `validation_failed` naming `field` (not a field of the form) or `value`
 *   (not a value of the field's type).
 * @example searchWhere(form, 'age', '36') // (params) => 'r.data @> $2::jsonb'
 */
export function searchWhere(
  form: Pick<FormRow, 'fields' | 'calculated_fields'>,
  key: string,
  value: string,
): SearchWhere {
  const field = form.fields.find((f) => f.key === key);
  if (!field) {
    if (form.calculated_fields.some((c) => c.key === key)) return caseless(key, value);
    throw validationFailed('field is not a field of this form', [
      { field: 'field', message: `"${key}" is not a field of this form` },
    ]);
  }
  switch (field.type) {
    case 'number':
    case 'integer':
    case 'rating':
      return contains(key, numberOf(value));
    case 'boolean':
      return contains(key, booleanOf(value));
    case 'multiselect':
      return contains(key, [optionOf(field, value) ?? value]);
    case 'select':
    case 'radio': {
      const option = optionOf(field, value);
      return option === undefined ? caseless(key, value) : contains(key, option);
    }
    case 'date':
      return contains(key, dateOf(value));
    case 'datetime':
      return sameInstant(form, key, value);
    default:
      return caseless(key, value);
  }
}

/** `r.data @> {"key": value}`: JSON equality (numbers by value), served by the GIN index. */
function contains(key: string, value: unknown): SearchWhere {
  return (params) => {
    params.push(JSON.stringify({ [key]: value }));
    return `r.data @> $${params.length}::jsonb`;
  };
}

/** The answer's text equals `value` whatever the case (as the database's lower() folds it). */
function caseless(key: string, value: string): SearchWhere {
  return (params) => {
    params.push(key, value);
    const n = params.length;
    return `lower(r.data ->> $${n - 1}::text) = lower($${n}::text)`;
  };
}

/** Instants compare as instants: the DSL's equality of a datetime field. */
function sameInstant(
  form: Pick<FormRow, 'fields' | 'calculated_fields'>,
  key: string,
  value: string,
): SearchWhere {
  const timestamp = parseTimestamp(value.trim());
  if (timestamp === undefined) throw badValue('must be an ISO 8601 date-time for this field');
  const ctx = { fields: form.fields, calculatedKeys: form.calculated_fields.map((c) => c.key) };
  return (params) => compileFilter({ [`data.${key}`]: timestamp }, ctx, params, 'value');
}

function numberOf(value: string): number {
  const text = value.trim();
  const n = NUMBER_RE.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw badValue('must be a number for this field');
  return n;
}

function booleanOf(value: string): boolean {
  const text = value.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw badValue('must be true or false (or yes/no, 1/0) for this field');
}

function dateOf(value: string): string {
  const text = value.trim();
  if (parseTimestamp(text) === undefined)
    throw badValue('must be a date (YYYY-MM-DD) for this field');
  return text.slice(0, 10);
}

/** The form's option that `value` names, any case; undefined when it names none. */
function optionOf(field: Field, value: string): string | undefined {
  const options = field.options ?? [];
  return options.includes(value)
    ? value
    : options.find((o) => o.toLowerCase() === value.toLowerCase());
}

function badValue(message: string) {
  return validationFailed('value does not fit the field', [{ field: 'value', message }]);
}
