import type { AttemptRow, DeliveryRow } from './queries.ts';

/** A delivery with its attempt log, as the API shows it. */
export function presentDelivery(row: DeliveryRow, attempts: readonly AttemptRow[]) {
  return {
    id: row.id,
    webhook_id: row.integration_id,
    integration_id: row.integration_id,
    event: row.event_type,
    event_id: row.event_id,
    status: row.status,
    created_at: row.created_at.toISOString(),
    next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    attempts: attempts.map((a) => ({
      number: a.number,
      at: a.at.toISOString(),
      status_code: a.status_code,
      latency_ms: a.latency_ms,
      error: a.error,
      response_excerpt: a.response_excerpt,
      manual: a.manual,
    })),
  };
}
