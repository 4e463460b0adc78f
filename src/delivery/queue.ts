import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../common/deadline.ts';
import type { Config } from '../config/index.ts';

export const DELIVERY_QUEUE = 'deliveries';

/** One attempt of one delivery, as queued. */
export interface DeliveryJob {
  deliveryId: string;
  attempt: number;
  manual?: boolean;
}

/**
 * What a BullMQ job of the delivery queue carries: one attempt, or a group of attempts that
 * were queued together (the relay's new deliveries), run by one job.
 */
export type DeliveryJobData = DeliveryJob | { group: DeliveryJob[] };

/** The attempts a job carries. */
export function attemptsOf(data: DeliveryJobData): DeliveryJob[] {
  return 'group' in data ? data.group : [data];
}

/** Attempts per grouped job. */
export const GROUP_SIZE = 100;

export interface EnqueueOptions {
  /**
   * Queue the attempts that are due now as jobs of up to GROUP_SIZE attempts each (delayed
   * ones stay one job each). A queue job costs the worker about as much CPU as the HTTP
   * request it makes, so the relay's fresh deliveries travel in groups. The sweeper and
   * retries queue one job per attempt, whose ids dedupe.
   */
  grouped?: boolean;
}

/** Where the relay, the engine and replays put attempts to make. */
export interface DeliveryQueue {
  enqueue(jobs: readonly (DeliveryJob & { delayMs?: number })[], options?: EnqueueOptions): Promise<void>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The BullMQ key prefix of this hub (REDIS_PREFIX + `bull`). */
export function bullPrefix(config: Config): string {
  return `${config.redis.prefix}bull`;
}

/**
 * BullMQ's job id for an attempt: the same attempt queued twice (by the engine or the
 * sweeper) is one job while it waits in Redis, so a backlog never multiplies. Finished and
 * failed jobs are removed at once, so a later re-queue is never ignored; the engine's claim
 * makes a stale duplicate harmless (an attempt that is also in a group, say). Replays get
 * ids of their own so that they run now. A group is named by its first attempt and size.
 */
export function jobId(job: DeliveryJob): string {
  return `${job.deliveryId}-a${job.attempt}${job.manual ? `-m${Date.now()}` : ''}`;
}

function groupId(group: readonly DeliveryJob[]): string {
  return `g-${jobId(group[0]!)}-n${group.length}`;
}

/**
 * The delivery queue on BullMQ. Its connection fails fast while Redis is down: the caller
 * logs, and the deliveries (safe in PostgreSQL) are queued again by the sweeper.
 */
export class BullDeliveryQueue implements DeliveryQueue {
  private readonly connection: Redis;
  private readonly queue: Queue<DeliveryJobData>;

  constructor(config: Config) {
    this.connection = new Redis(config.redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.connection.on('error', () => undefined);
    this.queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
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

  async enqueue(jobs: readonly (DeliveryJob & { delayMs?: number })[], options: EnqueueOptions = {}): Promise<void> {
    if (jobs.length === 0) return;
    const single = (data: DeliveryJob, delayMs?: number) => ({
      name: 'deliver',
      data,
      opts: { jobId: jobId(data), delay: delayMs && delayMs > 0 ? delayMs : undefined },
    });
    if (!options.grouped) {
      await this.queue.addBulk(jobs.map(({ delayMs, ...data }) => single(data, delayMs)));
      return;
    }
    const now: DeliveryJob[] = [];
    const later: ReturnType<typeof single>[] = [];
    for (const { delayMs, ...data } of jobs) {
      if (delayMs && delayMs > 0) later.push(single(data, delayMs));
      else now.push(data);
    }
    const groups: { name: string; data: DeliveryJobData; opts: { jobId: string } }[] = [];
    for (let i = 0; i < now.length; i += GROUP_SIZE) {
      const group = now.slice(i, i + GROUP_SIZE);
      groups.push(
        group.length === 1
          ? { name: 'deliver', data: group[0]!, opts: { jobId: jobId(group[0]!) } }
          : { name: 'deliver-group', data: { group }, opts: { jobId: groupId(group) } },
      );
    }
    await this.queue.addBulk([...groups, ...later]);
  }

  counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  }

  async close(): Promise<void> {
    // BullMQ waits for a connection that is still starting before it lets go; a Redis that
    // does not answer would hold a shutdown for ever. Past the deadline the connection is
    // dropped: nothing is lost, jobs already added are in Redis and deliveries in PostgreSQL.
    await finishedWithin(this.queue.close(), CLOSE_DEADLINE_MS);
    this.connection.disconnect();
  }
}
