import { Queue } from 'bullmq';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import { openRedis, type Redis } from '../redis/index.ts';
import {
  GROUP_SIZE,
  type DeliveryJob,
  type DeliveryJobData,
  type DeliveryQueue,
  type EnqueueOptions,
} from './delivery-queue.ts';

export const DELIVERY_QUEUE = 'deliveries';

/** The BullMQ key prefix of this hub (REDIS_PREFIX + `bull`). */
export function bullPrefix(config: Config): string {
  return `${config.redis.prefix}bull`;
}

/**
 * BullMQ's job id for an attempt: the same attempt queued twice (by the engine or the
 * sweeper) is one job while it waits in Redis, so a backlog never multiplies. Finished and
 * failed jobs are removed at once, so a later re-queue is never ignored; the engine's claim
 * makes a stale duplicate harmless (an attempt that is also in a group, say). Replays get
 * ids of their own so that they run now, and so do attempts re-queued for their rate-limit
 * slot (the job that re-queues one is still active under the plain id). A group is named by its first attempt and size.
 */
export function jobId(job: DeliveryJob): string {
  const own = job.manual ? `-m${Date.now()}` : job.slotAt ? `-p${job.slotAt}` : '';
  return `${job.deliveryId}-a${job.attempt}${own}`;
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
    this.connection = openRedis(config.redis.url, 'fail-fast');
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
    // Connection errors: each failed `enqueue` rejects to its caller, which logs it.
    this.queue.on('error', () => undefined);
  }

  async enqueue(
    jobs: readonly (DeliveryJob & { delayMs?: number })[],
    options: EnqueueOptions = {},
  ): Promise<void> {
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
