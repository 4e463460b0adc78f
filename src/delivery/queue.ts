import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';

export const DELIVERY_QUEUE = 'deliveries';

/** One attempt of one delivery, as queued. */
export interface DeliveryJob {
  deliveryId: string;
  attempt: number;
  manual?: boolean;
}

/** Where the relay, the engine and replays put attempts to make. */
export interface DeliveryQueue {
  enqueue(jobs: readonly (DeliveryJob & { delayMs?: number })[]): Promise<void>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The BullMQ key prefix of this hub (REDIS_PREFIX + `bull`). */
export function bullPrefix(config: Config): string {
  return `${config.redis.prefix}bull`;
}

/**
 * BullMQ's job id for an attempt: the same attempt queued twice (by the relay, the engine
 * or the sweeper) is one job while it waits in Redis, so a backlog never multiplies.
 * Finished and failed jobs are removed at once, so a later re-queue is never ignored; the
 * engine's claim makes a stale duplicate harmless. Replays get ids of their own so that
 * they run now.
 */
export function jobId(job: DeliveryJob): string {
  return `${job.deliveryId}-a${job.attempt}${job.manual ? `-m${Date.now()}` : ''}`;
}

/**
 * The delivery queue on BullMQ. Its connection fails fast while Redis is down: the caller
 * logs, and the deliveries (safe in PostgreSQL) are queued again by the sweeper.
 */
export class BullDeliveryQueue implements DeliveryQueue {
  private readonly connection: Redis;
  private readonly queue: Queue<DeliveryJob>;

  constructor(config: Config) {
    this.connection = new Redis(config.redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.connection.on('error', () => undefined);
    this.queue = new Queue<DeliveryJob>(DELIVERY_QUEUE, {
      connection: this.connection,
      prefix: bullPrefix(config),
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: true,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1_000 },
      },
    });
    this.queue.on('error', () => undefined);
  }

  async enqueue(jobs: readonly (DeliveryJob & { delayMs?: number })[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map(({ delayMs, ...data }) => ({
        name: 'deliver',
        data,
        opts: { jobId: jobId(data), delay: delayMs && delayMs > 0 ? delayMs : undefined },
      })),
    );
  }

  counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}
