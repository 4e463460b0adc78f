export { erasureRoutes, type ErasureRoutesOptions } from './routes.ts';
export { ErasureService, type PresentedErasure } from './service.ts';
export {
  ErasureRunner,
  startErasures,
  type ErasureCaches,
  type ErasureRunnerOptions,
} from './runner.ts';
export { deleteExpiredResponses, startResponseRetention } from './retention.ts';
export { eraseBatch, ERASURE_BATCH, type ErasedCounts, type ErasureSelection } from './erase.ts';
export { hubErasureCaches } from './caches.ts';
