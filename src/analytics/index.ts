export { analyticsRoutes } from './routes.ts';
export { MetricsChanges, MetricsService, MetricsStore, type MetricsDocument } from './metrics/index.ts';
