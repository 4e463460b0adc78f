import type { Queryable } from '../db/index.ts';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead';

export interface DeliveryRow {
  id: string;
  workspace_id: string;
  integration_id: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  created_at: Date;
}

export interface AttemptRow {
  delivery_id: string;
  number: number;
  at: Date;
  status_code: number;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  manual: boolean;
}

const COLUMNS = 'id, workspace_id, integration_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at';

export interface NewDelivery {
  id: string;
  workspaceId: string;
  integrationId: string;
  eventId: string;
  eventType: string;
  payload: string;
  now: Date;
}

/** Creates deliveries; one per (integration, event) whatever happens (ON CONFLICT DO NOTHING). */
export async function insertDeliveries(db: Queryable, deliveries: NewDelivery[]): Promise<{ id: string }[]> {
  if (deliveries.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO deliveries (id, workspace_id, integration_id, event_id, event_type, payload, status,
       next_attempt_at, created_at, updated_at)
     SELECT u.id, u.workspace_id, u.integration_id, u.event_id, u.event_type, u.payload, 'pending', u.at, u.at, u.at
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::jsonb[], $7::timestamptz[])
       AS u(id, workspace_id, integration_id, event_id, event_type, payload, at)
     ON CONFLICT (integration_id, event_id) DO NOTHING RETURNING id`,
    [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.workspaceId),
      deliveries.map((d) => d.integrationId),
      deliveries.map((d) => d.eventId),
      deliveries.map((d) => d.eventType),
      deliveries.map((d) => d.payload),
      deliveries.map((d) => d.now.toISOString()),
    ],
  );
  return rows;
}

/**
 * Claims a delivery for one attempt: only if it still waits for exactly this attempt and no
 * other worker holds it. A stale or duplicate job claims nothing and is dropped.
 */
export async function claimDelivery(
  db: Queryable,
  id: string,
  attemptNumber: number,
  lockMs: number,
): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE deliveries SET locked_until = now() + $3 * interval '1 millisecond'
     WHERE id = $1 AND attempts = $2 - 1 AND status IN ('pending', 'failed')
       AND (locked_until IS NULL OR locked_until < now())
     RETURNING ${COLUMNS}`,
    [id, attemptNumber, lockMs],
  );
  return rows[0];
}

export interface AttemptRecord {
  deliveryId: string;
  number: number;
  at: Date;
  statusCode: number;
  latencyMs: number;
  error: string | null;
  excerpt: string | null;
  manual: boolean;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
}

/** Logs an attempt and moves the delivery to its next state, in one statement. */
export async function recordAttempt(db: Queryable, a: AttemptRecord): Promise<void> {
  await db.query(
    `WITH logged AS (
       INSERT INTO delivery_attempts (delivery_id, number, at, status_code, latency_ms, error, response_excerpt, manual)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (delivery_id, number) DO NOTHING
     )
     UPDATE deliveries SET status = $9, attempts = $2, next_attempt_at = $10, locked_until = NULL, updated_at = $3
     WHERE id = $1`,
    [a.deliveryId, a.number, a.at, a.statusCode, a.latencyMs, a.error, a.excerpt, a.manual, a.status, a.nextAttemptAt],
  );
}

/** Deliveries that should be queued but may not be: overdue, or held by a worker that died. */
export async function overdueDeliveries(db: Queryable, graceMs: number, limit: number): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
     WHERE status IN ('pending', 'failed') AND next_attempt_at < now() - $1 * interval '1 millisecond'
       AND (locked_until IS NULL OR locked_until < now())
     ORDER BY next_attempt_at LIMIT $2`,
    [graceMs, limit],
  );
  return rows;
}

/** Makes a delivery due again now (replay); answers it, or undefined when unknown. */
export async function rearmDelivery(db: Queryable, id: string, workspaceId: string): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), locked_until = NULL, updated_at = now()
     WHERE id = $1 AND workspace_id = $2 RETURNING ${COLUMNS}`,
    [id, workspaceId],
  );
  return rows[0];
}

/** Re-arms every delivery of an integration created in [since, until] (and of a status). */
export async function rearmDeliveries(
  db: Queryable,
  integrationId: string,
  since: Date,
  until: Date,
  status: DeliveryStatus | undefined,
): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), locked_until = NULL, updated_at = now()
     WHERE integration_id = $1 AND created_at >= $2 AND created_at <= $3 AND ($4::text IS NULL OR status = $4)
     RETURNING ${COLUMNS}`,
    [integrationId, since, until, status ?? null],
  );
  return rows;
}

export async function findDelivery(db: Queryable, id: string, workspaceId: string): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries WHERE id = $1 AND workspace_id = $2`,
    [id, workspaceId],
  );
  return rows[0];
}

export async function listDeliveries(
  db: Queryable,
  integrationId: string,
  status: DeliveryStatus | undefined,
  limit: number,
  before: { createdAt: Date; id: string } | undefined,
): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM deliveries
     WHERE integration_id = $1 AND ($2::text IS NULL OR status = $2)
       AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $5`,
    [integrationId, status ?? null, before?.createdAt ?? null, before?.id ?? null, limit],
  );
  return rows;
}

export async function attemptsOf(db: Queryable, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  const { rows } = await db.query<AttemptRow>(
    `SELECT delivery_id, number, at, status_code, latency_ms, error, response_excerpt, manual
     FROM delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, number`,
    [deliveryIds],
  );
  return rows;
}

/** Success rate and dead count of an integration's recent deliveries (delivery health). */
export async function deliveryHealth(
  db: Queryable,
  integrationId: string,
): Promise<{ total: number; succeeded: number; dead: number }> {
  const { rows } = await db.query<{ total: number; succeeded: number; dead: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE status = 'dead')::int AS dead
     FROM deliveries WHERE integration_id = $1 AND created_at > now() - interval '7 days'`,
    [integrationId],
  );
  return rows[0] ?? { total: 0, succeeded: 0, dead: 0 };
}
