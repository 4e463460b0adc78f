import type { Queryable } from '../../db/index.ts';

export interface AnalyticsEvent {
  id: string;
  form_id: string;
  event_type: string;
  payload: { response?: ResponseSnapshot; previous?: ResponseSnapshot };
}

export interface ResponseSnapshot {
  completed: boolean;
  submitted_at: string;
  data: Record<string, unknown>;
}

/** Events the aggregates have not counted yet, oldest first; `formId` narrows to one form. */
export async function pendingEvents(
  db: Queryable,
  limit: number,
  formId?: string,
): Promise<AnalyticsEvent[]> {
  const { rows } = await db.query<AnalyticsEvent>(
    `SELECT id, form_id, event_type, payload FROM outbox
     WHERE aggregated_at IS NULL AND ($2::uuid IS NULL OR form_id = $2::uuid)
     ORDER BY created_at, id LIMIT $1`,
    [limit, formId ?? null],
  );
  return rows;
}

export async function markAggregated(tx: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query('UPDATE outbox SET aggregated_at = now() WHERE id = ANY($1::uuid[])', [ids]);
}

/** Ids of a form's events not yet counted, as of the transaction's snapshot. */
export async function unaggregatedIds(tx: Queryable, formId: string): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM outbox WHERE form_id = $1 AND aggregated_at IS NULL',
    [formId],
  );
  return rows.map((r) => r.id);
}

/** Forms with responses written in the last `days` days (for the reconcile job). */
export async function recentlyActiveForms(db: Queryable, days: number): Promise<{ id: string }[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT form_id AS id FROM outbox WHERE created_at > now() - $1 * interval '1 day'`,
    [days],
  );
  return rows;
}
