export {
  createMetricsRegistry,
  CLUSTER_METRICS_REPLY,
  CLUSTER_METRICS_REQUEST,
  type ClusterMetricsReply,
} from './metrics.ts';
