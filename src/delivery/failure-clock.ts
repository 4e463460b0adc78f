import type { Queryable } from '../db/index.ts';
import { markFailing, markHealthy } from '../integrations/index.ts';
import { failureClock } from './queries.ts';

/**
 * The integrations' failure clocks as a worker moves them: a clock starts at the first
 * failure and is cleared by a success (5 days of failures disable the integration). Each is
 * written only when it changes, and concurrent attempts of one integration share one write,
 * so a burst of failures does not queue up on the integration's row. `changed` tells the
 * caller's cache what was written.
 */
export class FailureClocks {
  private readonly starting = new Map<string, Promise<Date>>();
  private readonly stopping = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Queryable,
    private readonly changed: (integrationId: string, failingSince: Date | null) => void,
  ) {}

  /** Starts the clock if it is not running; answers when it started. */
  start(id: string, now: Date): Promise<Date> {
    let started = this.starting.get(id);
    if (!started) {
      started = markFailing(this.db, id, now)
        .then((since) => {
          this.changed(id, since);
          return since;
        })
        .finally(() => this.starting.delete(id));
      this.starting.set(id, started);
    }
    return started;
  }

  /** Clears the clock. */
  stop(id: string): Promise<void> {
    let stopped = this.stopping.get(id);
    if (!stopped) {
      stopped = markHealthy(this.db, id)
        .then(() => this.changed(id, null))
        .finally(() => this.stopping.delete(id));
      this.stopping.set(id, stopped);
    }
    return stopped;
  }

  /**
   * The clock as the database has it, read before disabling (a cached one may be a second
   * old); restarted now when a delivery succeeded since it started (a success that raced
   * with the failure that started it).
   */
  async confirm(id: string, now: Date): Promise<Date> {
    const clock = await failureClock(this.db, id);
    if (clock.failingSince && !clock.succeededSince) return clock.failingSince;
    await this.stop(id);
    return this.start(id, now);
  }
}
