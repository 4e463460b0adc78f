import type { Queryable } from '../db/index.ts';
import type { OutboxEvent } from './events.ts';

/**
 * Records an event in the outbox. Call it with the transaction that makes the change, so
 * that the change and its event commit together or not at all (transactional outbox);
 * the relay moves committed rows to the queue.
 */
export async function writeEvent(tx: Queryable, event: OutboxEvent): Promise<void> {
  await tx.query(
    `INSERT INTO outbox (id, workspace_id, form_id, event_type, payload, created_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
    [event.id, event.workspaceId, event.formId, event.type, JSON.stringify(event.payload), event.createdAt],
  );
}

/** Events not yet moved to the queue, oldest first (for the relay and for tests). */
export async function pendingEvents(db: Queryable, limit = 100): Promise<OutboxEvent[]> {
  const { rows } = await db.query<{
    id: string;
    workspace_id: string;
    form_id: string;
    event_type: OutboxEvent['type'];
    payload: Record<string, unknown>;
    created_at: Date;
  }>(
    `SELECT id, workspace_id, form_id, event_type, payload, created_at FROM outbox
     WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    workspaceId: r.workspace_id,
    formId: r.form_id,
    type: r.event_type,
    payload: r.payload,
    createdAt: r.created_at,
  }));
}
