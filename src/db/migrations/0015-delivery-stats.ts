/**
 * Delivery stats (DESIGN.md section 4b): counters per integration and 5-minute bucket, kept
 * as attempts happen (the worker adds what it counted about once a second), never computed
 * from the attempt log. `latency` is a histogram of attempt latencies in fixed log-scale
 * buckets (src/delivery/stats-histogram.ts). No foreign key: stats are history, and outlive
 * the deliveries retention deletes; rows older than the longest window are pruned by the
 * worker (`bucket_start` index).
 */
export const statements = [
  `CREATE TABLE delivery_stats (
    integration_id uuid NOT NULL,
    bucket_start timestamptz NOT NULL,
    delivered integer NOT NULL DEFAULT 0,
    failed_attempts integer NOT NULL DEFAULT 0,
    dead integer NOT NULL DEFAULT 0,
    filtered integer NOT NULL DEFAULT 0,
    latency integer[] NOT NULL,
    PRIMARY KEY (integration_id, bucket_start)
  )`,
  `CREATE INDEX delivery_stats_bucket_idx ON delivery_stats (bucket_start)`,
];
