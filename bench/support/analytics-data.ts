/**
 * The analytics benchmark's form and its responses: written straight into PostgreSQL with
 * one `INSERT ... SELECT FROM generate_series`, seeded (setseed) so every run holds the
 * same data relative to its start time.
 */

import type pg from 'pg';
import type { Field } from '../../src/forms/index.ts';

export const DEPARTMENTS = ['Engineering', 'Sales', 'Support', 'Finance', 'HR'];
export const TAGS = ['travel', 'hardware', 'software', 'training', 'meals', 'other'];

/** An expense-approval form: a select (5 options), a multiselect, a boolean, a rating, a number, a text. */
export const ANALYTICS_FORM = {
  title: 'Expense approvals (analytics benchmark)',
  description: 'Counted fields of every kind the metrics cover, plus a number and a text.',
  status: 'published' as const,
  fields: [
    {
      key: 'department',
      type: 'select',
      label: 'Department',
      required: true,
      options: DEPARTMENTS,
    },
    { key: 'tags', type: 'multiselect', label: 'Tags', options: TAGS },
    { key: 'approved', type: 'boolean', label: 'Approved' },
    { key: 'satisfaction', type: 'rating', label: 'Satisfaction', max: 5 },
    { key: 'hours', type: 'number', label: 'Processing time (hours)', min: 0, max: 1000 },
    { key: 'comment', type: 'text', label: 'Comment', max_length: 500 },
  ] satisfies Field[],
};

/**
 * `count` responses of the form, `submitted_at` over the last 18 months (548 days) with a
 * growing rate (the density rises linearly towards now, so the last days hold ~2x the mean)
 * and quieter weekends; departments skewed; 92% complete; 0.5% soft-deleted; each answer
 * but the department missing now and then; hours depend on the department.
 */
export async function insertResponses(
  client: pg.Client,
  ids: { workspaceId: string; formId: string; formVersion: number },
  count: number,
): Promise<void> {
  await client.query('SELECT setseed(0.42)');
  await client.query(
    `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, metadata,
       submitted_at, updated_at, deleted, deleted_at, source)
     SELECT gen_random_uuid(), $1, $2, $3,
       jsonb_strip_nulls(jsonb_build_object(
         'department', s.dept,
         'tags', s.tags,
         'approved', CASE WHEN s.r_approved_missing >= 0.05 THEN s.r_approved < 0.62 END,
         'satisfaction', CASE WHEN s.r_sat_missing >= 0.08 THEN 1 + floor(5 * power(s.r_sat, 0.7))::int END,
         'hours', CASE WHEN s.r_hours_missing >= 0.03 THEN round((0.5 + 20 * s.r_hours
             + CASE s.dept WHEN 'Finance' THEN 12 WHEN 'HR' THEN 6 WHEN 'Sales' THEN 3 ELSE 0 END
             + 60 * power(s.r_hours_tail, 8))::numeric, 1) END,
         'comment', CASE WHEN s.r_comment < 0.3 THEN 'Receipt attached for request #' || s.g END
       )),
       s.r_completed < 0.92, '{}'::jsonb, s.at, s.at, s.r_deleted < 0.005,
       CASE WHEN s.r_deleted < 0.005 THEN s.at END, 'import'
     FROM (
       SELECT g,
         (ARRAY['Engineering', 'Sales', 'Support', 'Finance', 'HR'])[1 + floor(5 * power(random(), 1.4))::int] AS dept,
         (SELECT jsonb_agg(t) FROM unnest(ARRAY['travel', 'hardware', 'software', 'training', 'meals', 'other']) AS t
           WHERE random() < 0.28 + 0 * g) AS tags,
         random() AS r_approved, random() AS r_approved_missing, random() AS r_sat, random() AS r_sat_missing,
         random() AS r_hours, random() AS r_hours_tail, random() AS r_hours_missing, random() AS r_comment,
         random() AS r_completed, random() AS r_deleted,
         CASE WHEN extract(isodow FROM w.at) IN (6, 7) AND random() < 0.6 THEN w.at - interval '2 days' ELSE w.at END AS at
       FROM generate_series(1, $4) AS g
       CROSS JOIN LATERAL (SELECT now() - (548 * (1 - sqrt(random() + 0 * g))) * interval '1 day' AS at) AS w
     ) AS s`,
    [ids.workspaceId, ids.formId, ids.formVersion, count],
  );
}
