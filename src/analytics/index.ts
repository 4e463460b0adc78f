export { analyticsRoutes } from './routes.ts';
export { MetricsService, MetricsStore, type MetricsDocument } from './metrics/index.ts';
