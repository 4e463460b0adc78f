export { buildApp, BODY_LIMIT_BYTES, type AppDeps } from './app.ts';
export {
  createMetricsRegistry,
  CLUSTER_METRICS_REPLY,
  CLUSTER_METRICS_REQUEST,
  type ClusterMetricsReply,
} from './metrics.ts';
