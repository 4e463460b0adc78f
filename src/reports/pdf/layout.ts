import type { Datum } from '../charts/index.ts';
import type { Field } from '../../forms/index.ts';
import type { ReportForm, ReportSummary } from './types.ts';

/** Field types whose answers are charted as option counts in the summary. */
export const CHOICE_TYPES: ReadonlySet<string> = new Set([
  'select',
  'radio',
  'multiselect',
  'boolean',
  'rating',
]);

const DAY_MS = 86_400_000;

/**
 * The daily series sorted by date, with the days missing between the first and the last filled
 * with 0 (so a chart's x axis is proportional to time). Labels are `MM-DD`, or the full date
 * when the series spans more than one year.
 */
export function fillDailyGaps(daily: ReadonlyArray<{ date: string; count: number }>): Datum[] {
  const byDay = new Map<number, number>();
  for (const { date, count } of daily) {
    const t = Date.parse(`${date.slice(0, 10)}T00:00:00Z`);
    if (Number.isNaN(t)) continue;
    byDay.set(t, (byDay.get(t) ?? 0) + count);
  }
  if (byDay.size === 0) return [];
  const days = [...byDay.keys()];
  const first = Math.min(...days);
  const last = Math.max(...days);
  const longSpan = last - first > 366 * DAY_MS;
  const out: Datum[] = [];
  for (let t = first; t <= last; t += DAY_MS) {
    const iso = new Date(t).toISOString().slice(0, 10);
    out.push({ label: longSpan ? iso : iso.slice(5), value: byDay.get(t) ?? 0 });
  }
  return out;
}

/** Bar chart for short periods, line chart for long ones (template `charts.daily`). */
export function dailyChartKind(
  mode: 'auto' | 'bar' | 'line',
  days: number,
  lineWhenOver: number,
): 'bar' | 'line' {
  if (mode !== 'auto') return mode;
  return days > lineWhenOver ? 'line' : 'bar';
}

/** A choice field with its option counts, ready to chart. */
export interface ChoiceChart {
  field: Field;
  answered: number;
  data: Datum[];
}

/**
 * The choice fields of `form` that have counts in `summary`, in form order. Options come in the
 * field's declared order, then any other answered values by count; at most `maxOptions` rows.
 */
export function choiceCharts(
  form: Pick<ReportForm, 'fields'>,
  summary: Pick<ReportSummary, 'fields'>,
  maxOptions: number,
  labels: { yes: string; no: string },
): ChoiceChart[] {
  const charts: ChoiceChart[] = [];
  for (const field of form.fields) {
    const stats = summary.fields[field.key];
    if (!CHOICE_TYPES.has(field.type) || stats === undefined) continue;
    const declared = field.type === 'boolean' ? ['true', 'false'] : (field.options ?? []);
    const extra = Object.keys(stats.counts)
      .filter((k) => !declared.includes(k))
      .sort(
        (a, b) =>
          (stats.counts[b] ?? 0) - (stats.counts[a] ?? 0) ||
          a.localeCompare(b, 'en', { numeric: true }),
      );
    const keys = [...declared, ...extra].slice(0, maxOptions);
    const label = (k: string) =>
      field.type !== 'boolean' ? k : k === 'true' ? labels.yes : k === 'false' ? labels.no : k;
    charts.push({
      field,
      answered: stats.answered,
      data: keys.map((k) => ({ label: label(k), value: stats.counts[k] ?? 0 })),
    });
  }
  return charts;
}

/**
 * Whether a block of `height` points should start on a new page: it does not fit in the
 * `remaining` space but would fit on an empty page (`pageHeight`). A block taller than a page
 * starts on a new page only when less than `minRemaining` is left, and then flows across pages.
 */
export function shouldBreakBefore(
  height: number,
  remaining: number,
  pageHeight: number,
  minRemaining = 60,
): boolean {
  if (height <= remaining) return false;
  if (height <= pageHeight) return true;
  return remaining < minRemaining;
}

/** The label of each field in the report: its `label`, else its key. */
export function fieldLabel(field: Pick<Field, 'key' | 'label'>): string {
  return field.label !== undefined && field.label.trim() !== '' ? field.label : field.key;
}
