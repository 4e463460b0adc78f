import type { Queryable } from '../db/index.ts';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead';

export interface DeliveryRow {
  id: string;
  workspace_id: string;
  integration_id: string;
  event_id: string;
  event_type: string;
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

/** A delivery as the API shows it; its payload is in `delivery_payloads` (migration 23). */
const COLUMNS =
  'id, workspace_id, integration_id, event_id, event_type, status, attempts, next_attempt_at, created_at';

export interface NewDelivery {
  id: string;
  workspaceId: string;
  integrationId: string;
  eventId: string;
  eventType: string;
  payload: string;
  now: Date;
  /** The trace the attempts continue (the relay's span), as jsonb text; null when untraced. */
  traceContext: string | null;
}

/**
 * Creates deliveries, due now; one per (integration, event) whatever happens (ON CONFLICT
 * DO NOTHING). Each one new is also put in `delivery_schedule`, where waiting deliveries are,
 * and its payload in `delivery_payloads`, where it is written once and only read after.
 */
export async function insertDeliveries(
  db: Queryable,
  deliveries: NewDelivery[],
): Promise<{ id: string }[]> {
  if (deliveries.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `WITH u AS MATERIALIZED (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::jsonb[], $7::timestamptz[], $8::jsonb[])
         AS u(id, workspace_id, integration_id, event_id, event_type, payload, at, trace_context)
     ), created AS (
       INSERT INTO deliveries (id, workspace_id, integration_id, event_id, event_type, status,
         next_attempt_at, created_at, updated_at, trace_context)
       SELECT u.id, u.workspace_id, u.integration_id, u.event_id, u.event_type, 'pending', u.at, u.at, u.at, u.trace_context
       FROM u
       ON CONFLICT (integration_id, event_id) DO NOTHING RETURNING id, next_attempt_at
     ), scheduled AS (
       INSERT INTO delivery_schedule (delivery_id, due_at) SELECT id, next_attempt_at FROM created
     ), stored AS (
       INSERT INTO delivery_payloads (delivery_id, payload)
       SELECT created.id, u.payload FROM created JOIN u ON u.id = created.id
     )
     SELECT id FROM created`,
    [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.workspaceId),
      deliveries.map((d) => d.integrationId),
      deliveries.map((d) => d.eventId),
      deliveries.map((d) => d.eventType),
      deliveries.map((d) => d.payload),
      deliveries.map((d) => d.now.toISOString()),
      deliveries.map((d) => d.traceContext),
    ],
  );
  return rows;
}

/**
 * What an attempt needs of its delivery (the claim returns only this), and the version of
 * its integration's row at the claim (null when the row is gone): the worker's cached copy
 * is used only when it is that version.
 */
export type ClaimedDelivery = Pick<DeliveryRow, 'id' | 'integration_id'> & {
  /** The stored event (`delivery_payloads`); null only if its row is missing. */
  payload: Record<string, unknown> | null;
  integration_version: string | null;
  /** `{traceparent, tracestate}` the attempt's span continues; null when untraced. */
  trace_context: unknown;
};

export interface ClaimRequest {
  id: string;
  attempt: number;
}

/**
 * Claims deliveries for one attempt each, in one statement: a delivery is claimed only if it
 * still waits for exactly that attempt and no other worker holds it. A stale or duplicate
 * job claims nothing (undefined in its place) and is dropped; a delivery asked for twice in
 * one batch goes to the first asker. Answers one entry per request, in order.
 *
 * The claim commits without waiting for its WAL flush (`synchronous_commit` off for this
 * statement only): it writes nothing but a lease. If PostgreSQL itself crashed within the
 * WAL writer's delay (well under a second), the lease could be lost and the attempt made a
 * second time, which at-least-once delivery allows (a killed worker does the same), and
 * the log's (delivery_id, number) key keeps one row. The attempt log is written with a
 * synchronous commit, and WAL is flushed in order, so a logged attempt's claim is durable too.
 *
 * Each claim also reads its integration's row version (a primary-key probe in the same
 * statement, no extra round trip): a change committed through the API before the claim
 * (rotate-secret, deactivate, delete, a new URL) is seen by this attempt, whichever
 * process made it, with no pub/sub to lose. And its payload, from `delivery_payloads` (a
 * primary-key probe too): the delivery row the claim rewrites does not carry it.
 */
export async function claimDeliveries(
  db: Queryable,
  requests: readonly ClaimRequest[],
  lockMs: number,
): Promise<(ClaimedDelivery | undefined)[]> {
  const { rows } = await db.query<ClaimedDelivery & { claimed_attempt: number }>(
    `UPDATE deliveries d SET locked_until = now() + $3 * interval '1 millisecond'
     FROM unnest($1::uuid[], $2::integer[]) AS u(id, attempt), (SELECT set_config('synchronous_commit', 'off', true)) AS lease
     WHERE d.id = u.id AND d.attempts = u.attempt - 1 AND d.status IN ('pending', 'failed')
       AND (d.locked_until IS NULL OR d.locked_until < now())
     RETURNING d.id, d.integration_id, d.trace_context, u.attempt AS claimed_attempt,
       (SELECT p.payload FROM delivery_payloads p WHERE p.delivery_id = d.id) AS payload,
       (SELECT i.xmin::text FROM integrations i WHERE i.id = d.integration_id) AS integration_version`,
    [requests.map((r) => r.id), requests.map((r) => r.attempt), lockMs],
  );
  const won = new Map(rows.map((row) => [`${row.id}/${row.claimed_attempt}`, row]));
  return requests.map((r) => {
    const key = `${r.id}/${r.attempt}`;
    const row = won.get(key);
    won.delete(key);
    return row;
  });
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

/**
 * Logs attempts and moves their deliveries to their next states, in one statement (one
 * commit): when it returns, every attempt of the batch is in the log of record. A delivery
 * that will be tried again gets its new due time in `delivery_schedule`; one that
 * succeeded or died leaves it. The delivery row itself changes no indexed column.
 */
export async function recordAttempts(
  db: Queryable,
  records: readonly AttemptRecord[],
): Promise<void> {
  // One JSON parameter (the records as they are; dates become ISO strings) costs the worker
  // far less than ten arrays, which pg escapes element by element.
  await db.query(
    `WITH u AS (
       SELECT "deliveryId" AS delivery_id, number, at, "statusCode" AS status_code, "latencyMs" AS latency_ms,
         error, excerpt, manual, status, "nextAttemptAt" AS next_attempt_at
       FROM json_to_recordset($1::json) AS r("deliveryId" uuid, number integer, at timestamptz, "statusCode" integer,
         "latencyMs" integer, error text, excerpt text, manual boolean, status text, "nextAttemptAt" timestamptz)
     ), logged AS (
       INSERT INTO delivery_attempts (delivery_id, number, at, status_code, latency_ms, error, response_excerpt, manual)
       SELECT delivery_id, number, at, status_code, latency_ms, error, excerpt, manual FROM u
       ON CONFLICT (delivery_id, number) DO NOTHING
     ), finished AS (
       DELETE FROM delivery_schedule s USING u
       WHERE s.delivery_id = u.delivery_id AND u.status NOT IN ('pending', 'failed')
     ), rescheduled AS (
       INSERT INTO delivery_schedule (delivery_id, due_at)
       SELECT delivery_id, next_attempt_at FROM u WHERE u.status IN ('pending', 'failed')
       ON CONFLICT (delivery_id) DO UPDATE SET due_at = EXCLUDED.due_at
     )
     UPDATE deliveries d SET status = u.status, attempts = u.number, next_attempt_at = u.next_attempt_at,
       locked_until = NULL, updated_at = u.at
     FROM u WHERE d.id = u.delivery_id`,
    [JSON.stringify(records)],
  );
}

/**
 * Deliveries that should be queued but may not be: overdue, or held by a worker that died.
 * Ids and attempt counts only: the sweeper queues them, the claim reads the rest.
 */
export async function overdueDeliveries(
  db: Queryable,
  graceMs: number,
  limit: number,
): Promise<{ id: string; attempts: number }[]> {
  const { rows } = await db.query<{ id: string; attempts: number }>(
    `SELECT d.id, d.attempts FROM delivery_schedule s JOIN deliveries d ON d.id = s.delivery_id
     WHERE s.due_at < now() - $1 * interval '1 millisecond'
       AND d.status IN ('pending', 'failed') AND (d.locked_until IS NULL OR d.locked_until < now())
     ORDER BY s.due_at LIMIT $2`,
    [graceMs, limit],
  );
  return rows;
}

/**
 * An integration's failure clock as the database has it now, and whether one of its
 * deliveries succeeded since the clock started (then the clock is stale: another attempt's
 * success raced with the failure that started it). Read only before disabling.
 */
export async function failureClock(
  db: Queryable,
  integrationId: string,
): Promise<{ failingSince: Date | null; succeededSince: boolean }> {
  const { rows } = await db.query<{ failing_since: Date | null; succeeded_since: boolean }>(
    `SELECT i.failing_since, i.failing_since IS NOT NULL AND EXISTS (
       SELECT 1 FROM deliveries d
       WHERE d.integration_id = i.id AND d.status = 'succeeded' AND d.updated_at >= i.failing_since
     ) AS succeeded_since
     FROM integrations i WHERE i.id = $1`,
    [integrationId],
  );
  return {
    failingSince: rows[0]?.failing_since ?? null,
    succeededSince: rows[0]?.succeeded_since ?? false,
  };
}

/** Puts re-armed deliveries back in the schedule, due now (a CTE over `rearmed`). */
const SCHEDULE_REARMED = `scheduled AS (
       INSERT INTO delivery_schedule (delivery_id, due_at) SELECT id, now() FROM rearmed
       ON CONFLICT (delivery_id) DO UPDATE SET due_at = EXCLUDED.due_at
     )`;

/** Makes a delivery due again now (replay); answers it, or undefined when unknown. */
export async function rearmDelivery(
  db: Queryable,
  id: string,
  workspaceId: string,
): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `WITH rearmed AS (
       UPDATE deliveries SET status = 'pending', next_attempt_at = now(), locked_until = NULL, updated_at = now()
       WHERE id = $1 AND workspace_id = $2 RETURNING ${COLUMNS}
     ), ${SCHEDULE_REARMED}
     SELECT * FROM rearmed`,
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
    `WITH rearmed AS (
       UPDATE deliveries SET status = 'pending', next_attempt_at = now(), locked_until = NULL, updated_at = now()
       WHERE integration_id = $1 AND created_at >= $2 AND created_at <= $3 AND ($4::text IS NULL OR status = $4)
       RETURNING ${COLUMNS}
     ), ${SCHEDULE_REARMED}
     SELECT * FROM rearmed`,
    [integrationId, since, until, status ?? null],
  );
  return rows;
}

export async function findDelivery(
  db: Queryable,
  id: string,
  workspaceId: string,
): Promise<DeliveryRow | undefined> {
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

/**
 * Lets claimed deliveries wait for their rate-limit slots (DESIGN.md section 4a): each is
 * released and due at its slot, in `delivery_schedule` too, so that the sweeper sees it as
 * waiting (not lost) until then, and queues it again only if its job never comes. Neither
 * the status nor the attempt count changes, and no attempt is logged.
 */
export async function postponeDeliveries(
  db: Queryable,
  postponed: readonly { id: string; dueAt: Date }[],
): Promise<void> {
  await db.query(
    `WITH u AS (
       SELECT id, due_at FROM json_to_recordset($1::json) AS r(id uuid, due_at timestamptz)
     ), scheduled AS (
       INSERT INTO delivery_schedule (delivery_id, due_at) SELECT id, due_at FROM u
       ON CONFLICT (delivery_id) DO UPDATE SET due_at = EXCLUDED.due_at
     )
     UPDATE deliveries d SET next_attempt_at = u.due_at, locked_until = NULL
     FROM u WHERE d.id = u.id`,
    [JSON.stringify(postponed.map((p) => ({ id: p.id, due_at: p.dueAt.toISOString() })))],
  );
}
