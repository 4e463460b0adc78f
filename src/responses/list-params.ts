import { decodeTimeCursor } from '../http/index.ts';
import { invalidRequest } from '../errors/index.ts';
import type { FormRow } from '../forms/index.ts';
import { compileFilter, parseTimestamp } from '../analytics/index.ts';
import { findTextProblem, formatPath, MAX_INPUT_DEPTH } from '../common/index.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `since`/`until`: a date (midnight UTC; `until` then means the end of that day) or a
 * date-time, of years 1-9999 with an offset of at most +-14:00 (400 otherwise: PostgreSQL
 * refuses wider offsets, JavaScript dates reach years PostgreSQL cannot store).
 */
export function parseBound(name: 'since' | 'until', text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const timestamp = parseTimestamp(text);
  if (timestamp === undefined) {
    throw invalidRequest(`${name} is not a date`, [
      {
        field: name,
        message: 'must be an ISO 8601 date or date-time, years 1-9999, offsets up to +-14:00',
      },
    ]);
  }
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime()))
    throw invalidRequest(`${name} is not a date`, [
      { field: name, message: 'must be an ISO 8601 date or date-time' },
    ]);
  return name === 'until' && DATE_ONLY.test(text)
    ? new Date(date.getTime() + 86_400_000 - 1)
    : date;
}

/** `fields=a,b`: the data keys to keep, each a field or calculated field of the form. */
export function parseProjection(form: FormRow, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const keys = text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const known = new Set([
    ...form.fields.map((f) => f.key),
    ...form.calculated_fields.map((c) => c.key),
  ]);
  const unknown = keys.filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw invalidRequest('fields names keys the form does not have', [
      { field: 'fields', message: `unknown: ${unknown.join(', ')}` },
    ]);
  }
  return keys;
}

/** The keyset position of a responses cursor. */
export function parseResponseCursor(
  cursor: string | undefined,
): { submittedAt: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const { at, id } = decodeTimeCursor(cursor);
  return { submittedAt: at, id };
}

/**
 * `filter=<DSL filter as JSON>`: compiled once to check it (400 naming the offending part),
 * then appended to the listing's SQL with its own parameters.
 */
export function parseFilter(
  form: FormRow,
  text: string | undefined,
): ((params: unknown[]) => string) | undefined {
  if (text === undefined) return undefined;
  let filter: unknown;
  try {
    filter = JSON.parse(text);
  } catch {
    throw invalidRequest('filter is not valid JSON', [
      { field: 'filter', message: 'must be a JSON query filter' },
    ]);
  }
  // The query string was checked as text; its JSON escapes (`\u0000`) only appear now.
  const problem = findTextProblem(filter, MAX_INPUT_DEPTH);
  if (problem)
    throw invalidRequest('filter holds text that cannot be stored', [
      { field: formatPath('filter', problem.path), message: problem.message },
    ]);
  const ctx = { fields: form.fields, calculatedKeys: form.calculated_fields.map((c) => c.key) };
  compileFilter(filter, ctx, [form.id]);
  return (params) => compileFilter(filter, ctx, params);
}
