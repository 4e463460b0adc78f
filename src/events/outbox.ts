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
    [
      event.id,
      event.workspaceId,
      event.formId,
      event.type,
      JSON.stringify(event.payload),
      event.createdAt,
    ],
  );
}
