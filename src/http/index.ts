export { buildApp, BODY_LIMIT_BYTES, type AppDeps } from './app.ts';
export { createMetricsRegistry } from './metrics.ts';
