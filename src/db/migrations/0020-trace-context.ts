/**
 * W3C trace context (DESIGN.md section 4c): with tracing on, an event stores the
 * `traceparent`/`tracestate` of the request that raised it, and each of its deliveries that
 * of the relay's span, so every attempt (retries and sweeper re-queues included, which
 * re-read the row) continues the submission's trace. `{"traceparent": "...", "tracestate":
 * "..."}`; NULL when tracing is off. Nullable with no default: adding them rewrites nothing.
 */
export const statements = [
  `ALTER TABLE outbox ADD COLUMN trace_context jsonb`,
  `ALTER TABLE deliveries ADD COLUMN trace_context jsonb`,
];
