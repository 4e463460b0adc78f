import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';

/** A Prometheus registry with the process's default metrics and the HTTP metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'formhub_' });
  return registry;
}

/** Counts requests and times them by method, route pattern and status; serves `GET /metrics`. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'formhub_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'formhub_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status code',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  const clustered = cluster.isWorker;
  if (clustered) joinClusterMetrics(registry);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    // Which process answered: tests and operators can see the cluster's workers take turns.
    reply.header('x-formhub-pid', String(process.pid));
    if (!clustered) return registry.metrics();
    // No answer from the primary: this process's own metrics, and the scope header says so.
    const summed = await askPrimaryForClusterMetrics().catch(() => undefined);
    reply.header('x-formhub-metrics-scope', summed === undefined ? 'process' : 'cluster');
    return summed ?? registry.metrics();
  });
}

/** The IPC messages between a cluster worker's `/metrics` and the primary (src/cli/cluster-metrics.ts). */
export const CLUSTER_METRICS_REQUEST = 'formhub:cluster-metrics-request';
export const CLUSTER_METRICS_REPLY = 'formhub:cluster-metrics-reply';

export interface ClusterMetricsReply {
  type: typeof CLUSTER_METRICS_REPLY;
  id: number;
  text?: string;
  error?: string;
}

/** How long a worker waits for the primary's sums (the primary itself gives workers 5 s). */
const PRIMARY_TIMEOUT_MS = 6_000;
const pending = new Map<number, (reply: ClusterMetricsReply) => void>();
let nextRequestId = 0;
let listening = false;

/**
 * In a cluster worker: lets the primary's AggregatorRegistry collect this registry (prom-client
 * answers its requests once an AggregatorRegistry exists in the process), and listens for the
 * primary's answers to this worker's own `/metrics` requests.
 */
function joinClusterMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  new Gauge({
    name: 'formhub_cluster_worker_info',
    help: 'One per live cluster worker, labelled with its process id and cluster worker id',
    labelNames: ['pid', 'worker'] as const,
    registers: [registry],
  }).set({ pid: String(process.pid), worker: String(cluster.worker?.id ?? 0) }, 1);
  if (listening) return;
  listening = true;
  process.on('message', (message: ClusterMetricsReply) => {
    if (message?.type === CLUSTER_METRICS_REPLY) pending.get(message.id)?.(message);
  });
}

/** The cluster-wide sums from the primary; rejects when it does not answer in time. */
function askPrimaryForClusterMetrics(): Promise<string> {
  const id = ++nextRequestId;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => settle({ type: CLUSTER_METRICS_REPLY, id, error: 'timed out' }),
      PRIMARY_TIMEOUT_MS,
    );
    function settle(reply: ClusterMetricsReply) {
      clearTimeout(timer);
      pending.delete(id);
      if (reply.text !== undefined) resolve(reply.text);
      else reject(new Error(`cluster metrics: ${reply.error ?? 'no answer'}`));
    }
    pending.set(id, settle);
    process.send!({ type: CLUSTER_METRICS_REQUEST, id }, undefined, {}, (error) => {
      if (error) settle({ type: CLUSTER_METRICS_REPLY, id, error: error.message });
    });
  });
}
