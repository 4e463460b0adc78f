import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { DeliveryEngine } from './engine.ts';
import { bullPrefix, DELIVERY_QUEUE, type DeliveryJob } from './queue.ts';

/**
 * The BullMQ worker that runs delivery attempts, `concurrency` at a time. A job whose
 * worker dies is found stalled and run again; the engine's claim keeps that at-least-once
 * without double attempts while the first one is still in flight.
 */
export function startDeliveryWorker(
  config: Config,
  engine: DeliveryEngine,
  logger: Logger,
  concurrency = 50,
): { close(): Promise<void> } {
  const connection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const worker = new Worker<DeliveryJob>(DELIVERY_QUEUE, (job) => engine.attempt(job.data), {
    connection,
    prefix: bullPrefix(config),
    concurrency,
    stalledInterval: 15_000,
    lockDuration: config.webhooks.timeoutMs + 20_000,
  });
  worker.on('error', (error) => logger.debug({ err: error.message }, 'delivery worker connection error'));
  worker.on('failed', (job, error) =>
    logger.warn({ job: job?.id, err: error.message }, 'delivery job failed; BullMQ will retry it'),
  );
  return {
    async close() {
      await worker.close();
      // Jobs in flight have finished; nothing should be left in the engine's batches.
      await engine.drain();
      connection.disconnect();
    },
  };
}
