import type { Field } from '../../forms/index.ts';
import { bucketKey } from './buckets.ts';

/** Field types whose answers the metrics count value by value. */
export const COUNTED_TYPES = new Set(['select', 'radio', 'multiselect', 'boolean', 'rating']);

/** What one response adds to a form's aggregates: hash name -> field -> increment. */
export type Contribution = Record<'counts' | 'hours' | 'days' | 'months', Record<string, number>>;

/** The response fields the aggregates depend on. */
export interface CountedResponse {
  completed: boolean;
  submitted_at: string;
  data: Record<string, unknown>;
}

export function emptyContribution(): Contribution {
  return { counts: {}, hours: {}, days: {}, months: {} };
}

/**
 * What a live response adds to its form's aggregates: one to `total` and to `completed`
 * or `partial`; when completed, one to its hour, day and month buckets and, for each
 * counted field it answers, to `f:<key>:a` (answered) and `f:<key>:v:<value>` (each
 * chosen option of a multiselect). The SQL rebuild counts exactly the same way.
 */
export function contribution(response: CountedResponse, fields: readonly Field[]): Contribution {
  const c = emptyContribution();
  c.counts.total = 1;
  c.counts[response.completed ? 'completed' : 'partial'] = 1;
  if (!response.completed) return c;
  const at = new Date(response.submitted_at);
  c.hours[bucketKey('hour', at)] = 1;
  c.days[bucketKey('day', at)] = 1;
  c.months[bucketKey('month', at)] = 1;
  for (const field of fields) {
    if (!COUNTED_TYPES.has(field.type)) continue;
    const values = answerValues(response.data[field.key]);
    if (values.length === 0) continue;
    c.counts[`f:${field.key}:a`] = 1;
    for (const value of values)
      c.counts[`f:${field.key}:v:${value}`] = (c.counts[`f:${field.key}:v:${value}`] ?? 0) + 1;
  }
  return c;
}

/** The counted values of an answer: none for null/absent/empty, each element of an array. */
export function answerValues(answer: unknown): string[] {
  if (answer === null || answer === undefined) return [];
  if (Array.isArray(answer)) return [...new Set(answer.filter((v) => v !== null).map(String))];
  return [String(answer)];
}

/** `after - before`, keeping only non-zero increments. */
export function delta(before: Contribution | null, after: Contribution | null): Contribution {
  const out = emptyContribution();
  for (const hash of Object.keys(out) as (keyof Contribution)[]) {
    const keys = new Set([
      ...Object.keys(before?.[hash] ?? {}),
      ...Object.keys(after?.[hash] ?? {}),
    ]);
    for (const key of keys) {
      const change = (after?.[hash][key] ?? 0) - (before?.[hash][key] ?? 0);
      if (change !== 0) out[hash][key] = change;
    }
  }
  return out;
}
