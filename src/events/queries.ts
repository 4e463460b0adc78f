import { parseCarrier } from '../tracing/index.ts';
import type { Queryable } from '../db/index.ts';
import type { OutboxEvent } from './events.ts';

interface OutboxRow {
  id: string;
  workspace_id: string;
  form_id: string;
  event_type: OutboxEvent['type'];
  payload: Record<string, unknown>;
  created_at: Date;
  trace_context: unknown;
}

function toEvent(r: OutboxRow): OutboxEvent {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    formId: r.form_id,
    type: r.event_type,
    payload: r.payload,
    createdAt: r.created_at,
    traceContext: parseCarrier(r.trace_context),
  };
}

/**
 * Locks up to `limit` undispatched events, oldest first, skipping rows another relay holds:
 * several relays can run at once and never take the same event.
 */
export async function lockPendingEvents(tx: Queryable, limit: number): Promise<OutboxEvent[]> {
  const { rows } = await tx.query<OutboxRow>(
    `SELECT id, workspace_id, form_id, event_type, payload, created_at, trace_context FROM outbox
     WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map(toEvent);
}

export async function markDispatched(tx: Queryable, ids: string[], now: Date): Promise<void> {
  await tx.query('UPDATE outbox SET dispatched_at = $2 WHERE id = ANY($1::uuid[])', [ids, now]);
}

/**
 * Whether any event waits to be relayed, locked or not: when `lockPendingEvents` took none
 * although one waits, another transaction holds it (a relay's batch, or analytics marking
 * it counted), and the relay looks again soon rather than at its next idle poll.
 */
export async function hasPendingEvents(db: Queryable): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM outbox WHERE dispatched_at IS NULL LIMIT 1');
  return rows.length > 0;
}

/** Events not yet moved to the queue, oldest first (for the relay and for tests). */
export async function pendingEvents(db: Queryable, limit = 100): Promise<OutboxEvent[]> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT id, workspace_id, form_id, event_type, payload, created_at, trace_context FROM outbox
     WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT $1`,
    [limit],
  );
  return rows.map(toEvent);
}

/** Titles of forms, for event envelopes. */
export async function formTitles(db: Queryable, formIds: string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; title: string }>(
    'SELECT id, title FROM forms WHERE id = ANY($1::uuid[])',
    [formIds],
  );
  return new Map(rows.map((r) => [r.id, r.title]));
}
