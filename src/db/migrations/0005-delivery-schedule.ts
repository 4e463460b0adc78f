/**
 * The deliveries waiting for an attempt move to a table of their own, so that an attempt
 * rewrites its delivery row without touching any index (a HOT update).
 *
 * Before, the due index (next_attempt_at, WHERE status IN ('pending', 'failed')) covered
 * columns that every attempt changes, so each attempt wrote a new version of the whole row
 * (payload included) plus an entry in each of its 4 indexes, twice (claim and log).
 * Now `delivery_schedule` holds one small row per waiting delivery (inserted with the
 * delivery, deleted when it succeeds or dies, moved when it is retried), no index of
 * `deliveries` covers a column an attempt changes, and the table leaves room in each page
 * (fillfactor) for the new versions. Measured in docs/benchmarks/delivery-analytics.md.
 */
export const statements = [
  `CREATE TABLE delivery_schedule (
    delivery_id uuid PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    due_at timestamptz NOT NULL
  )`,
  `CREATE INDEX delivery_schedule_due_idx ON delivery_schedule (due_at)`,
  `INSERT INTO delivery_schedule (delivery_id, due_at)
   SELECT id, COALESCE(next_attempt_at, now()) FROM deliveries WHERE status IN ('pending', 'failed')`,
  `DROP INDEX deliveries_due_idx`,
  `ALTER TABLE deliveries SET (fillfactor = 50)`,
];
