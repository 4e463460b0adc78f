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
  compileQuery,
  parseTimestamp,
  shapeResult,
  withFormId,
  type ResultRow,
} from './dsl/index.ts';
