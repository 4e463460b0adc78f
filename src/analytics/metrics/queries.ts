import type { Queryable } from '../../db/index.ts';
import type { Field } from '../../forms/index.ts';
import { seriesStart } from './buckets.ts';
import { COUNTED_TYPES } from './contribution.ts';
import type { RawAggregates } from './document.ts';

const LIVE = 'r.form_id = $1 AND NOT r.deleted';

/**
 * The aggregates computed by SQL over PostgreSQL, counted exactly as the incremental
 * contributions count them. Used to rebuild Redis and while Redis is unavailable.
 */
export async function aggregatesFromSql(
  db: Queryable,
  formId: string,
  fields: readonly Field[],
  now: Date,
  options: { sequential?: boolean } = {},
): Promise<RawAggregates> {
  const parts: (() => Promise<unknown>)[] = [
    () =>
      db.query<{ total: number; completed: number }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE r.completed)::int AS completed FROM responses r WHERE ${LIVE}`,
        [formId],
      ),
    () =>
      buckets(
        db,
        formId,
        `to_char(date_trunc('hour', r.submitted_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
        seriesStart('hour', now),
      ),
    () =>
      buckets(
        db,
        formId,
        `to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
        seriesStart('day', now),
      ),
    () =>
      buckets(
        db,
        formId,
        `to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM')`,
        seriesStart('month', now),
      ),
    () => fieldCounts(db, formId, fields),
  ];
  // One connection (a transaction) runs one query at a time; a pool may run them in parallel.
  const results: unknown[] = [];
  if (options.sequential) for (const part of parts) results.push(await part());
  else results.push(...(await Promise.all(parts.map((part) => part()))));
  const [totals, hours, days, months, counts] = results as [
    { rows: { total: number; completed: number }[] },
    Record<string, number>,
    Record<string, number>,
    Record<string, number>,
    Record<string, number>,
  ];
  const t = totals.rows[0] ?? { total: 0, completed: 0 };
  return {
    counts: { total: t.total, completed: t.completed, partial: t.total - t.completed, ...counts },
    hours,
    days,
    months,
  };
}

async function buckets(
  db: Queryable,
  formId: string,
  keyExpr: string,
  since: Date,
): Promise<Record<string, number>> {
  const { rows } = await db.query<{ k: string; n: number }>(
    `SELECT ${keyExpr} AS k, count(*)::int AS n FROM responses r
     WHERE ${LIVE} AND r.completed AND r.submitted_at >= $2 GROUP BY 1`,
    [formId, since],
  );
  return Object.fromEntries(rows.map((r) => [r.k, r.n]));
}

/** `f:<key>:a` and `f:<key>:v:<value>` for every counted field, in one query. */
async function fieldCounts(
  db: Queryable,
  formId: string,
  fields: readonly Field[],
): Promise<Record<string, number>> {
  const counted = fields.filter((f) => COUNTED_TYPES.has(f.type));
  if (counted.length === 0) return {};
  const keys = counted.map((f) => f.key);
  const multi = counted.map((f) => f.type === 'multiselect');
  const { rows } = await db.query<{ k: string; v: string | null; n: number }>(
    `WITH f AS (SELECT * FROM unnest($2::text[], $3::boolean[]) AS f(k, multi)),
     answers AS (
       SELECT f.k, r.id, CASE WHEN f.multi THEN NULL ELSE r.data ->> f.k END AS single,
              CASE WHEN f.multi AND jsonb_typeof(r.data -> f.k) = 'array' THEN r.data -> f.k END AS many
       FROM responses r CROSS JOIN f
       WHERE ${LIVE} AND r.completed AND r.data ? f.k AND jsonb_typeof(r.data -> f.k) <> 'null'
     ),
     vals AS (
       SELECT k, id, single AS v FROM answers WHERE single IS NOT NULL
       UNION ALL
       SELECT DISTINCT a.k, a.id, e.v FROM answers a CROSS JOIN LATERAL jsonb_array_elements_text(a.many) AS e(v)
       WHERE a.many IS NOT NULL AND e.v IS NOT NULL
     )
     SELECT k, NULL AS v, count(DISTINCT id)::int AS n FROM vals GROUP BY k
     UNION ALL
     SELECT k, v, count(*)::int AS n FROM vals GROUP BY k, v`,
    [formId, keys, multi],
  );
  const out: Record<string, number> = {};
  for (const row of rows) out[row.v === null ? `f:${row.k}:a` : `f:${row.k}:v:${row.v}`] = row.n;
  return out;
}
