import type { Queryable } from '../../db/index.ts';
import type { DailyCount, TrainedModel } from '../forecast/index.ts';

/**
 * Completed responses per UTC day over the last `days` days up to and including the day of
 * `now`, for one form or (formId null) every live form of a workspace. Days without responses
 * are absent. `now` is the caller's clock, not the database's: the window must end on the
 * same day as the series the caller builds from it, even when midnight passes in between.
 */
export async function dailyCompleted(
  db: Queryable,
  workspaceId: string,
  formId: string | null,
  days: number,
  now: Date,
): Promise<DailyCount[]> {
  const { rows } = await db.query<{ date: string; count: number }>(
    `SELECT to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, count(*)::int AS count
     FROM responses r JOIN forms f ON f.id = r.form_id AND f.deleted_at IS NULL
     WHERE r.workspace_id = $1 AND ($2::uuid IS NULL OR r.form_id = $2::uuid) AND NOT r.deleted AND r.completed
       AND r.submitted_at >= (date_trunc('day', $4::timestamptz AT TIME ZONE 'UTC') - $3 * interval '1 day') AT TIME ZONE 'UTC'
     GROUP BY 1 ORDER BY 1`,
    [workspaceId, formId, days, now],
  );
  return rows;
}

export async function loadModel(db: Queryable, scope: string): Promise<TrainedModel | undefined> {
  const { rows } = await db.query<{ model: TrainedModel }>(
    'SELECT model FROM analytics_models WHERE scope = $1',
    [scope],
  );
  return rows[0]?.model;
}

export async function saveModel(
  db: Queryable,
  scope: string,
  workspaceId: string,
  formId: string | null,
  model: TrainedModel,
): Promise<void> {
  await db.query(
    `INSERT INTO analytics_models (scope, workspace_id, form_id, model, trained_at) VALUES ($1, $2, $3, $4::jsonb, $5)
     ON CONFLICT (scope) DO UPDATE SET model = EXCLUDED.model, trained_at = EXCLUDED.trained_at`,
    [scope, workspaceId, formId, JSON.stringify(model), model.trained_at],
  );
}

/** Every stored model's scope (for the weekly retraining). */
export async function modelScopes(
  db: Queryable,
): Promise<{ scope: string; workspace_id: string; form_id: string | null }[]> {
  const { rows } = await db.query<{ scope: string; workspace_id: string; form_id: string | null }>(
    'SELECT scope, workspace_id, form_id FROM analytics_models',
  );
  return rows;
}

/** Records anomalies; answers the ones not seen before. */
export async function recordAnomalies(
  db: Queryable,
  formId: string,
  anomalies: readonly { date: string; count: number; expected: number }[],
): Promise<{ date: string; count: number; expected: number }[]> {
  if (anomalies.length === 0) return [];
  const { rows } = await db.query<{ date: string; count: number; expected: number }>(
    `INSERT INTO analytics_anomalies (form_id, day, count, expected)
     SELECT $1, u.day, u.count, u.expected FROM unnest($2::date[], $3::int[], $4::int[]) AS u(day, count, expected)
     ON CONFLICT (form_id, day) DO NOTHING
     RETURNING to_char(day, 'YYYY-MM-DD') AS date, count, expected`,
    [
      formId,
      anomalies.map((a) => a.date),
      anomalies.map((a) => a.count),
      anomalies.map((a) => a.expected),
    ],
  );
  return rows;
}

/** Forms with completed responses in the `days` days before `now` (for the daily anomaly scan). */
export async function activeForms(
  db: Queryable,
  days: number,
  now: Date,
): Promise<{ id: string; workspace_id: string }[]> {
  const { rows } = await db.query<{ id: string; workspace_id: string }>(
    `SELECT f.id, f.workspace_id FROM forms f
     WHERE f.deleted_at IS NULL AND EXISTS (
       SELECT 1 FROM responses r WHERE r.form_id = f.id AND NOT r.deleted AND r.completed
         AND r.submitted_at > $2::timestamptz - $1 * interval '1 day')`,
    [days, now],
  );
  return rows;
}
