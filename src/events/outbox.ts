import type { Queryable } from '../db/index.ts';
import { tracer } from '../tracing/index.ts';
import type { OutboxEvent } from './events.ts';

/**
 * Records an event in the outbox. Call it with the transaction that makes the change, so
 * that the change and its event commit together or not at all (transactional outbox);
 * the relay moves committed rows to the queue. With tracing on, the event also keeps the
 * active trace context (the request's), which the relay and every attempt continue.
 */
export async function writeEvent(tx: Queryable, event: OutboxEvent): Promise<void> {
  await tx.query(
    `INSERT INTO outbox (id, workspace_id, form_id, event_type, payload, created_at, trace_context)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb)`,
    [
      event.id,
      event.workspaceId,
      event.formId,
      event.type,
      JSON.stringify(event.payload),
      event.createdAt,
      traceContextOf(event),
    ],
  );
}

/** The event's trace context as a jsonb parameter: its own, else the active one; null when off. */
export function traceContextOf(event: Pick<OutboxEvent, 'traceContext'>): string | null {
  const carrier = event.traceContext ?? tracer().current();
  return carrier ? JSON.stringify(carrier) : null;
}
