import type { Field } from '../../forms/index.ts';
import { bucketKey, seriesKeys, type Granularity } from './buckets.ts';
import { COUNTED_TYPES } from './contribution.ts';

/** The metrics document of DESIGN.md ("Analytics"). */
export interface MetricsDocument {
  form_id: string;
  total: number;
  completed: number;
  partial: number;
  today: number;
  completion_rate: number;
  timeseries: Record<Granularity, { t: string; count: number }[]>;
  fields: Record<string, { answered: number; counts: Record<string, number> }>;
}

/** The raw aggregates a document is made from, whether read from Redis or computed by SQL. */
export interface RawAggregates {
  counts: Record<string, number>;
  /** Bucket key -> count; only the keys of the series need be present. */
  hours: Record<string, number>;
  days: Record<string, number>;
  months: Record<string, number>;
}

/**
 * Builds the metrics document: totals, today, completion rate (4 decimals), the three
 * zero-filled series ending now, and the counted fields of the form as it is now.
 */
export function buildDocument(
  formId: string,
  fields: readonly Field[],
  raw: RawAggregates,
  now: Date,
): MetricsDocument {
  const n = (v: number | undefined) => (v && v > 0 ? v : 0);
  const total = n(raw.counts.total);
  const completed = n(raw.counts.completed);
  const series = (granularity: Granularity, source: Record<string, number>) =>
    seriesKeys(granularity, now).map((t) => ({ t, count: n(source[t]) }));
  return {
    form_id: formId,
    total,
    completed,
    partial: n(raw.counts.partial),
    today: n(raw.days[bucketKey('day', now)]),
    completion_rate: total === 0 ? 0 : Math.round((completed / total) * 10_000) / 10_000,
    timeseries: {
      hour: series('hour', raw.hours),
      day: series('day', raw.days),
      month: series('month', raw.months),
    },
    fields: fieldCounts(fields, raw.counts),
  };
}

function fieldCounts(
  fields: readonly Field[],
  counts: Record<string, number>,
): MetricsDocument['fields'] {
  const out: MetricsDocument['fields'] = {};
  for (const field of fields) {
    if (!COUNTED_TYPES.has(field.type)) continue;
    const prefix = `f:${field.key}:v:`;
    const values: Record<string, number> = {};
    for (const [key, count] of Object.entries(counts)) {
      if (key.startsWith(prefix) && count > 0) values[key.slice(prefix.length)] = count;
    }
    out[field.key] = {
      answered: Math.max(0, counts[`f:${field.key}:a`] ?? 0),
      counts: sortByCount(values),
    };
  }
  return out;
}

function sortByCount(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)),
  );
}
