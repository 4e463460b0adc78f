/**
 * The delivery queue contract: where the relay, the engine, the sweeper and replays put the
 * attempts to make. Its BullMQ implementation is `bullmq-delivery-queue.ts`.
 */
/** One attempt of one delivery, as queued. */
export interface DeliveryJob {
  deliveryId: string;
  attempt: number;
  manual?: boolean;
  /**
   * The rate-limit slot reserved for this attempt (epoch ms; DESIGN.md section 4a): the job
   * comes a little before it, waits for it, and does not ask the limiter again.
   */
  slotAt?: number;
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
  enqueue(
    jobs: readonly (DeliveryJob & { delayMs?: number })[],
    options?: EnqueueOptions,
  ): Promise<void>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}
