export { analyticsRoutes } from './routes.ts';
export {
  MetricsChanges,
  MetricsService,
  MetricsStore,
  type MetricsDocument,
} from './metrics/index.ts';
export { InsightsService } from './insights/index.ts';
export { startAnalyticsJobs } from './jobs.ts';
export { QueryService } from './query-service.ts';
export {
  compileFilter,
  compilePredicate,
  compileQuery,
  parseTimestamp,
  shapeResult,
  withFormId,
  type PredicateResponse,
  type ResponsePredicate,
  type ResultRow,
} from './dsl/index.ts';
