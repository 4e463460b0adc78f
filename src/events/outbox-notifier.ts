import type { Logger } from 'pino';
import type { Queryable } from '../db/index.ts';

/** The channel a commit of new events is announced on; the notification carries nothing else. */
export const OUTBOX_CHANNEL = 'formhub_outbox';

/** What a writer of events calls once its transaction has committed. */
export interface OutboxCommits {
  committed(): void;
}

/**
 * Announces committed events on `formhub_outbox` (`NOTIFY`), for the relays that LISTEN
 * (OutboxSignal). Not from the writer's transaction, nor from a trigger: PostgreSQL (up to
 * 18) holds one database-wide lock from the commit of a transaction that notified until that
 * commit is flushed to disk, so notifying submissions would commit one at a time (measured:
 * 1,289 one-row commits/s without, 227 with, 32 clients; docs/BENCHMARKS.md). Instead, after
 * the commit, one statement of its own, committed without waiting for the flush
 * (`synchronous_commit` off: a notification is not data, and the event it announces is
 * already on disk), and coalesced: while one is in flight, any number of commits make one more.
 * A lost notification costs latency only: the relays poll as a fallback.
 */
export class OutboxNotifier implements OutboxCommits {
  private sending = false;
  private pending = false;

  constructor(
    private readonly db: Queryable,
    private readonly logger: Logger,
  ) {}

  committed(): void {
    if (this.sending) return void (this.pending = true);
    this.sending = true;
    this.pending = false;
    this.db
      .query(
        `SELECT set_config('synchronous_commit', 'off', true), pg_notify('${OUTBOX_CHANNEL}', '')`,
      )
      .catch((error: Error) => {
        // Nothing is lost: the event is committed, and the relays' poll finds it.
        this.logger.debug({ err: error.message }, 'outbox NOTIFY failed; the relay poll covers it');
      })
      .finally(() => {
        this.sending = false;
        if (this.pending) this.committed();
      });
  }
}
