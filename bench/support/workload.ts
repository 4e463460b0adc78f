/**
 * The benchmark workload: one realistic form of eight fields (one per common type) and a
 * deterministic stream of valid answers to it, shared by the import and submit benchmarks.
 */

import type { Field } from '../../src/forms/index.ts';

const DEPARTMENTS = [
  'Engineering',
  'Sales',
  'Marketing',
  'Support',
  'Finance',
  'HR',
  'Legal',
  'Operations',
];
const INTERESTS = [
  'api',
  'analytics',
  'integrations',
  'security',
  'mobile',
  'reporting',
  'automation',
  'billing',
];
const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Barbara',
  'Edsger',
  'Frances',
  'Donald',
  'Margaret',
  'Ken',
  'Radia',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Liskov',
  'Dijkstra',
  'Allen',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Perlman',
];
const DAY_MS = 86_400_000;

/** The form every benchmark submits to: text, email, select, multiselect, number, boolean, date, rating. */
export const BENCH_FORM = {
  title: 'Customer onboarding survey (benchmark)',
  description: 'Eight fields, one of each common type.',
  status: 'published' as const,
  fields: [
    { key: 'name', type: 'text', label: 'Full name', required: true, max_length: 200 },
    { key: 'email', type: 'email', label: 'Work email', required: true },
    {
      key: 'department',
      type: 'select',
      label: 'Department',
      required: true,
      options: DEPARTMENTS,
    },
    {
      key: 'interests',
      type: 'multiselect',
      label: 'Interests',
      options: INTERESTS,
      min: 1,
      max: 4,
    },
    { key: 'age', type: 'number', label: 'Age', min: 16, max: 120 },
    { key: 'subscribed', type: 'boolean', label: 'Subscribe to the newsletter' },
    { key: 'start_date', type: 'date', label: 'Start date' },
    { key: 'satisfaction', type: 'rating', label: 'Satisfaction', required: true, max: 5 },
  ] satisfies Field[],
};

/** mulberry32: a small seeded PRNG, so every run (and both sides of a comparison) sees the same rows. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

/** One valid set of answers to BENCH_FORM (about 250 bytes of JSON). */
export function makeAnswers(random: () => number, n: number): Record<string, unknown> {
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const interests = INTERESTS.filter(() => random() < 0.3).slice(0, 4);
  if (interests.length === 0) interests.push(pick(random, INTERESTS));
  const start = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 2400) * DAY_MS);
  return {
    name: `${first} ${last} ${n}`,
    email: `${first}.${last}${n}@example.com`.toLowerCase(),
    department: pick(random, DEPARTMENTS),
    interests,
    age: 18 + Math.floor(random() * 60),
    subscribed: random() < 0.4,
    start_date: start.toISOString().slice(0, 10),
    satisfaction: 1 + Math.floor(random() * 5),
  };
}

/** One row of a bulk import: answers, a time in the year before `now`, and 9 in 10 complete. */
export interface ImportRow {
  data: Record<string, unknown>;
  submitted_at: string;
  completed: boolean;
}

/** `count` import rows, the same for a given seed and `now`. */
export function* importRows(count: number, now: number, seed = 42): Generator<ImportRow> {
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const data = makeAnswers(random, i);
    const submittedAt = new Date(now - Math.floor(random() * 365 * DAY_MS)).toISOString();
    yield { data, submitted_at: submittedAt, completed: random() < 0.9 };
  }
}

/** `count` distinct submission bodies (`{"data": {...}}`), serialised once. */
export function submissionBodies(count: number, seed = 7): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => JSON.stringify({ data: makeAnswers(random, i) }));
}
