/**
 * Per-integration delivery policy (DESIGN.md section 4a): a retry schedule (the durations as
 * the client gave them, read back as given, and in ms for the worker) and a rate limit in
 * deliveries per second. NULL: the hub's default (WEBHOOK_RETRY_SCHEDULE; no limit, or
 * Zapier's 30 per second per workspace for Zapier hooks).
 */
export const statements = [
  `ALTER TABLE integrations ADD COLUMN retry_schedule jsonb, ADD COLUMN retry_schedule_ms integer[],
     ADD COLUMN rate_limit_per_second integer`,
];
