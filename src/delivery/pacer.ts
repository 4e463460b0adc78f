import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import type { DeliveryJob, DeliveryQueue } from './delivery-queue.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { MicroBatcher } from './micro-batcher.ts';
import { postponeDeliveries } from './queries.ts';
import {
  bucketOf,
  intervalUs,
  type RateLimitedIntegration,
  type RateLimiter,
  type SlotRequest,
} from './rate-limiter.ts';

/** A slot this close is waited for in the process; a later one is re-queued for its time. */
const WAIT_IN_PROCESS_MS = 1_000;
/**
 * A re-queued attempt comes this long before its slot and waits for it in the process:
 * BullMQ hands out delayed jobs in bunches (its timers, a busy worker), a timer here does not.
 */
const EARLY_MS = 500;
/** When the limiter does not answer (Redis down), the delivery waits this long in PostgreSQL. */
const LIMITER_DOWN_WAIT_MS = 1_000;
/** The limiter's failures are logged at most this often. */
const LOG_EVERY_MS = 10_000;

export interface PacerDeps {
  db: Database;
  queue: DeliveryQueue;
  limiter: RateLimiter;
  logger: Logger;
  batch: { maxSize: number; maxWaitMs: number };
  metrics?: DeliveryMetrics | undefined;
}

/**
 * Holds deliveries to their integration's rate limit (DESIGN.md section 4a) between the claim
 * and the attempt. A delivery over the rate waits for the slot the limiter reserved for it:
 * in the process when it is near, else it is released in PostgreSQL, due at its slot, and
 * re-queued with that delay. Either way no attempt is made or logged and its count stays, so
 * the wait is neither a failure nor an attempt; the sweeper sees it as due later, not lost.
 * Concurrent reservations share one Redis round trip, and postponements one statement.
 */
export class Pacer {
  private readonly reservations: MicroBatcher<SlotRequest, number>;
  private readonly postponements: MicroBatcher<{ id: string; dueAt: Date }, undefined>;
  private lastLoggedAt = 0;
  /** Per bucket, the earliest time (performance.now()) this process may send the next one. */
  private readonly nextSend = new Map<string, number>();

  constructor(private readonly deps: PacerDeps) {
    this.reservations = new MicroBatcher((requests) => deps.limiter.reserve(requests), {
      ...deps.batch,
      // A reservation moves the bucket on: one that failed must not be made twice.
      retrySingly: false,
    });
    this.postponements = new MicroBatcher(async (items) => {
      await postponeDeliveries(deps.db, items);
      return items.map(() => undefined);
    }, deps.batch);
  }

  /**
   * Answers true when the attempt may be made now (after a short wait, if its slot is near),
   * false when the delivery was postponed to its slot (this job is done with it).
   */
  async admit(
    deliveryId: string,
    integration: (RateLimitedIntegration & { active: boolean; deleted: boolean }) | undefined,
    job: DeliveryJob,
  ): Promise<boolean> {
    // An integration that will not be delivered to (the attempt says why) has no limit to keep.
    if (!integration?.active || integration.deleted) return true;
    const request = bucketOf(integration);
    if (!request) return true;
    if (job.slotAt !== undefined) {
      // A slot reserved before: wait for it.
      await sleep(job.slotAt - Date.now());
    } else {
      const waitMs = await this.reserve(request);
      if (waitMs === undefined) {
        // Not sent past the limit unchecked: the delivery waits in PostgreSQL, where the
        // sweeper queues it again (and it asks for a slot again) once Redis is back.
        const dueAt = new Date(Date.now() + LIMITER_DOWN_WAIT_MS);
        await this.postponements.add({ id: deliveryId, dueAt });
        this.deps.metrics?.recordRateLimited('limiter_down');
        return false;
      }
      if (waitMs > WAIT_IN_PROCESS_MS) {
        await this.postpone(deliveryId, job, waitMs);
        this.deps.metrics?.recordRateLimited('requeued');
        return false;
      }
      if (waitMs > 0) this.deps.metrics?.recordRateLimited('in_process');
      await sleep(waitMs);
    }
    await this.spaced(request);
    return true;
  }

  /**
   * Keeps this process's own sends of a bucket at least an interval apart. The slots are
   * spaced already; but timers that fire late (a busy event loop) fire together, and would
   * send a burst. This costs nothing when sends keep to their slots.
   */
  private async spaced(request: SlotRequest): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.nextSend.get(request.bucket) ?? 0);
    if (this.nextSend.size >= 10_000) this.forgetPast(now);
    this.nextSend.set(request.bucket, at + intervalUs(request.perSecond) / 1000);
    if (at - now >= 1) await sleep(at - now);
  }

  /** Drops the buckets whose next send is not in the future (they would not delay anything). */
  private forgetPast(now: number): void {
    for (const [bucket, at] of this.nextSend) if (at <= now) this.nextSend.delete(bucket);
  }

  async drain(): Promise<void> {
    await this.reservations.drain();
    await this.postponements.drain();
  }

  /** Milliseconds until the reserved slot (under a millisecond: now); undefined when Redis failed. */
  private async reserve(request: SlotRequest): Promise<number | undefined> {
    try {
      return Math.floor((await this.reservations.add(request)) / 1000);
    } catch (error) {
      this.logLimiterDown(error);
      return undefined;
    }
  }

  private async postpone(deliveryId: string, job: DeliveryJob, waitMs: number): Promise<void> {
    const slotAt = Date.now() + waitMs;
    await this.postponements.add({ id: deliveryId, dueAt: new Date(slotAt) });
    await this.deps.queue
      .enqueue([{ ...job, slotAt, delayMs: waitMs - EARLY_MS }])
      .catch((error: Error) =>
        this.deps.logger.warn(
          { err: error.message, delivery: deliveryId },
          'rate-limited delivery not re-queued; the sweeper will queue it at its time',
        ),
      );
  }

  private logLimiterDown(error: unknown): void {
    const now = Date.now();
    if (now - this.lastLoggedAt < LOG_EVERY_MS) return;
    this.lastLoggedAt = now;
    this.deps.logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'rate limiter (Redis) not answering; rate-limited deliveries wait in PostgreSQL',
    );
  }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
