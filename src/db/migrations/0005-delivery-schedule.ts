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
 * (fillfactor) for the new versions.
 *
 * The attempt log loses its foreign key to `deliveries`: checking it took a KEY SHARE lock
 * on the delivery row for every attempt logged (a WAL record and a dirtied page each),
 * about a third of PostgreSQL's CPU per delivery. Attempts are written only by the
 * statement that moves their delivery (`recordAttempts`), and deliveries are never deleted
 * (integrations, forms and workspaces are soft-deleted); code that ever deletes deliveries
 * must delete their attempts in the same transaction. Measured in
 * docs/benchmarks/delivery-analytics.md.
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
  `ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey`,
];
