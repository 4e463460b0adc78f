import type { Field } from '../../forms/index.ts';
import type { ReportTemplate } from './template.ts';

type Labels = ReportTemplate['labels'];

/**
 * An answer as the report prints it: lists joined, booleans Yes/No (template wording),
 * dates as given, objects as JSON, missing answers as the template's `empty` label.
 */
export function formatValue(
  value: unknown,
  field: Pick<Field, 'type'> | undefined,
  labels: Labels,
): string {
  if (value === null || value === undefined || value === '') return labels.empty;
  if (typeof value === 'boolean') return value ? labels.yes : labels.no;
  if (Array.isArray(value)) {
    if (value.length === 0) return labels.empty;
    return value.map((v) => formatValue(v, undefined, labels)).join(labels.list_separator);
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : labels.empty;
  if (typeof value === 'object') return JSON.stringify(value);
  if (field?.type === 'boolean' && (value === 'true' || value === 'false'))
    return value === 'true' ? labels.yes : labels.no;
  return String(value);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${withTime}`;
  let f = formatters.get(key);
  if (f === undefined) {
    const time = withTime
      ? ({ hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } as const)
      : {};
    f = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      timeZone,
      ...time,
    });
    formatters.set(key, f);
  }
  return f;
}

/** Formats an instant in the template's locale and time zone, e.g. "14 Mar 2025, 09:30 UTC". */
export function formatDateTime(value: Date | string, locale: string, timeZone: string): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return String(value);
  return formatter(locale, timeZone, true).format(date);
}

/** Formats a calendar day in the template's locale, e.g. "14 Mar 2025". */
export function formatDate(value: Date, locale: string, timeZone: string): string {
  return formatter(locale, timeZone, false).format(value);
}
