export {
  GROUP_SIZE,
  attemptsOf,
  type DeliveryQueue,
  type DeliveryJob,
  type DeliveryJobData,
  type EnqueueOptions,
} from './delivery-queue.ts';
export { BullDeliveryQueue, bullPrefix, DELIVERY_QUEUE } from './bullmq-delivery-queue.ts';
export { OutboxRelay, toFormEvent, type EventSubscriber } from './relay.ts';
export { DeliveryEngine, type EngineDeps } from './engine.ts';
export { DeliverySweeper } from './sweeper.ts';
export {
  deleteExpiredDeliveries,
  startDeliveryRetention,
  type RetentionCursor,
} from './retention.ts';
export {
  MemoryRateLimiter,
  ZAPIER_PER_SECOND,
  type RateLimiter,
  type SlotRequest,
} from './rate-limiter.ts';
export { RedisRateLimiter } from './redis-rate-limiter.ts';
export { startDeliveryWorker } from './worker.ts';
export { DeliveryService } from './service.ts';
export { DeliveryMetrics } from './metrics.ts';
export { DeliveryStats, STATS_BUCKET_MS, type StatsCounter } from './stats.ts';
export { deliveryStatsRoutes } from './stats-routes.ts';
export { deliverySearchRoutes } from './search-routes.ts';
export { deliveryRoutes } from './routes.ts';
export { nextState, outcomeOfError, type AttemptOutcome } from './outcome.ts';
export type { DeliveryStatus } from './queries.ts';
