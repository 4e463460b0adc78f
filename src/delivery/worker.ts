import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { CLOSE_DEADLINE_MS, finishedWithin } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import { openRedis } from '../redis/index.ts';
import type { DeliveryEngine } from './engine.ts';
import { bullPrefix, DELIVERY_QUEUE } from './bullmq-delivery-queue.ts';
import { attemptsOf, type DeliveryJob, type DeliveryJobData } from './delivery-queue.ts';
import { Slots } from './slots.ts';

/**
 * The BullMQ worker that runs delivery attempts: up to `inFlight` attempts at once, whether
 * they come one per job (retries, replays, the sweeper) or in groups (the relay's new
 * deliveries). A job whose worker dies is found stalled and run again; the engine's claim
 * keeps that at-least-once without double attempts while the first one is still in flight,
 * and makes the attempts of a group that were already made do nothing.
 *
 * The worker takes up to an eighth as many jobs from Redis as it runs attempts (50 by
 * default, as many as it sends at once): enough single-attempt jobs (retries) to keep the
 * sends busy, and with groups at most `inFlight / 8 * GROUP_SIZE` attempts held, which wait
 * for an attempt slot, in order, before they claim.
 */
export function startDeliveryWorker(
  config: Config,
  engine: DeliveryEngine,
  logger: Logger,
  inFlight = 400,
): { close(): Promise<void> } {
  const connection = openRedis(config.redis.url, 'blocking');
  const slots = new Slots(inFlight);
  const run = (attempt: DeliveryJob) => slots.use(() => engine.attempt(attempt));
  const worker = new Worker<DeliveryJobData>(
    DELIVERY_QUEUE,
    async (job) => {
      const attempts = attemptsOf(job.data);
      if (attempts.length === 1) return run(attempts[0]!);
      // Every attempt of a group runs; if one could not be logged, the job fails and BullMQ
      // runs it again, where the attempts already made claim nothing.
      const failed = (await Promise.allSettled(attempts.map(run))).filter(
        (r) => r.status === 'rejected',
      );
      if (failed.length > 0) {
        throw new Error(
          `${failed.length} of ${attempts.length} attempts failed: ${String(failed[0]!.reason)}`,
        );
      }
    },
    {
      connection,
      prefix: bullPrefix(config),
      concurrency: Math.max(1, Math.floor(inFlight / 8)),
      stalledInterval: 15_000,
      lockDuration: config.webhooks.timeoutMs + 20_000,
    },
  );
  worker.on('error', (error) =>
    logger.debug({ err: error.message }, 'delivery worker connection error'),
  );
  worker.on('failed', (job, error) =>
    logger.warn({ job: job?.id, err: error.message }, 'delivery job failed; BullMQ will retry it'),
  );
  return {
    async close() {
      // Attempts in flight end within the per-attempt timeout, so that long is waited for
      // them. Past it (a plugin that ignores its abort, a Redis that does not answer) the
      // worker is let go: its jobs stay active in Redis, are found stalled and run again by
      // a worker, and the engine's claim keeps that to one attempt each.
      const graceMs = config.webhooks.timeoutMs + CLOSE_DEADLINE_MS;
      if (!(await finishedWithin(worker.close(), graceMs))) {
        logger.warn(
          { graceMs },
          'delivery jobs still running at shutdown; leaving them to be run again',
        );
        await finishedWithin(worker.disconnect(), CLOSE_DEADLINE_MS);
      }
      // Nothing should be left in the engine's batches once its attempts have ended.
      if (!(await finishedWithin(engine.drain(), CLOSE_DEADLINE_MS))) {
        logger.warn('delivery outcomes still being written at shutdown; their jobs will run again');
      }
      connection.disconnect();
    },
  };
}
