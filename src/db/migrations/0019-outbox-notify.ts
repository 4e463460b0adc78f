/**
 * The outbox relay's wake-up (DESIGN.md section 4c): every statement that inserts outbox
 * rows raises one `NOTIFY formhub_outbox` (no payload: nothing about the event leaves the
 * table). A trigger rather than a NOTIFY in the writers' code, so that every writer is
 * covered (a submission, an import's batch inserts, an update, SQL run by hand); per
 * statement rather than per row, so that an import of 100,000 rows raises one notification
 * per batch, not one per row. PostgreSQL sends it only when the transaction commits, and
 * folds the notifications of one transaction into one; a rolled-back insert sends nothing.
 */
export const OUTBOX_NOTIFY_CHANNEL = 'formhub_outbox';

export const statements = [
  `CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('${OUTBOX_NOTIFY_CHANNEL}', '');
     RETURN NULL;
   END
   $$`,
  `CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
     FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`,
];
