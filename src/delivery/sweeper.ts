import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import { overdueDeliveries } from './queries.ts';
import { GROUP_SIZE, type DeliveryQueue } from './delivery-queue.ts';

/** How long a worker takes per attempt at least (200 attempts a second), for the grace. */
const MS_PER_WAITING_ATTEMPT = 5;

export interface SweeperOptions {
  intervalMs?: number;
  /** How late a due delivery may be before it counts as lost from the queue. */
  graceMs?: number;
  /**
   * Added to the grace for each job waiting in the queue (default GROUP_SIZE × 5 ms: a job
   * holds up to GROUP_SIZE attempts, and a worker makes at least 200 attempts a second):
   * behind a backlog, a due delivery is late because it waits its turn, not because Redis
   * lost it, and re-queueing it would only cost Redis work.
   */
  graceMsPerWaitingJob?: number;
}

/**
 * The safety net under the queue: every few seconds, deliveries that are due but were
 * never queued (Redis was down), or whose worker died holding them, are queued again.
 * Queueing twice is harmless: the job id dedupes, and the engine's claim drops stale jobs.
 */
export class DeliverySweeper {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly queue: DeliveryQueue,
    private readonly logger: Logger,
    private readonly options: SweeperOptions = {},
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 5_000;
    this.timer = setInterval(() => {
      this.current = this.sweep().catch((error: Error) =>
        this.logger.debug({ err: error.message }, 'sweep failed; next round will retry'),
      );
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.current;
  }

  /** Queues overdue deliveries; answers how many. */
  async sweep(): Promise<number> {
    const grace =
      (this.options.graceMs ?? 10_000) +
      (await this.waitingJobs()) *
        (this.options.graceMsPerWaitingJob ?? GROUP_SIZE * MS_PER_WAITING_ATTEMPT);
    const overdue = await overdueDeliveries(this.db, grace, 1_000);
    if (overdue.length === 0) return 0;
    await this.queue.enqueue(overdue.map((d) => ({ deliveryId: d.id, attempt: d.attempts + 1 })));
    this.logger.info({ count: overdue.length }, 'queued overdue deliveries again');
    return overdue.length;
  }

  /** Jobs waiting in the queue; 0 when Redis does not answer (then the queue may have lost them). */
  private async waitingJobs(): Promise<number> {
    try {
      const counts = await this.queue.counts();
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    } catch {
      return 0;
    }
  }
}
