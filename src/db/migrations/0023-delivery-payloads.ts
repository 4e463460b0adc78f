/**
 * The payload of a delivery (the stored event it sends) moves out of `deliveries` into a
 * table of its own, written once when the delivery is made and read once per attempt (by
 * the claim, in the same statement).
 *
 * A delivery row is rewritten on every attempt, twice (the claim's lease, then the logged
 * outcome), and each new version of a row carries all its columns: with the payload inline
 * (most are a few hundred bytes to a few KB, under the TOAST threshold) every attempt
 * copied it twice into the heap (a same-page update's WAL record leaves the unchanged
 * prefix out), and few rows fitted a page. Without it a delivery row is about 170 bytes. The old column is dropped (existing versions keep their
 * bytes until they are next updated or the table is rewritten; nothing reads them).
 *
 * A narrower row also means more rows per page, all of them updated twice within
 * milliseconds of each other (the relay makes them together): at fillfactor 50 about 26
 * rows of ~170 bytes share a page whose free half holds fewer than their 52 new versions,
 * and when pruning has not yet freed the first ones an update leaves the page (not HOT: a
 * new entry in every index). Measured: 70.6% to 98.6% of the updates HOT against 100%
 * with the payload inline (bench:delivery, docs/BENCHMARKS.md). At fillfactor 30 a page
 * takes 14 rows and has room for both updates of each without any pruning, and a
 * delivery still takes about a third of the room it took with its payload.
 *
 * No foreign key, as for the attempt log (migration 0005): checking one would lock the
 * delivery row when the payload is written. Whatever deletes deliveries deletes their
 * payloads in the same statement (retention, erasure; test/unit/attempt-log-guard.test.ts
 * holds every source to it). The erasure's index on the response id (migration 0017)
 * moves with the payload.
 */
export const statements = [
  `CREATE TABLE delivery_payloads (
    delivery_id uuid PRIMARY KEY,
    payload jsonb NOT NULL
  )`,
  `INSERT INTO delivery_payloads (delivery_id, payload) SELECT id, payload FROM deliveries`,
  `CREATE INDEX delivery_payloads_response_idx ON delivery_payloads ((payload -> 'response' ->> 'id'))`,
  `DROP INDEX deliveries_response_idx`,
  `ALTER TABLE deliveries DROP COLUMN payload`,
  `ALTER TABLE deliveries SET (fillfactor = 30)`,
];
