import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import {
  CLUSTER_METRICS_REPLY,
  CLUSTER_METRICS_REQUEST,
  type ClusterMetricsReply,
} from '../http/index.ts';

/**
 * The primary's side of `/metrics` in a cluster: a worker asks over IPC, the primary sums
 * every live worker's registry with prom-client's AggregatorRegistry (counters and histograms
 * add up; each metric's own aggregator decides for gauges) and appends its own metrics.
 */
export class ClusterMetrics {
  private readonly aggregator = new AggregatorRegistry();
  private readonly own = new Registry();
  private readonly restarts = new Counter({
    name: 'formhub_cluster_worker_restarts_total',
    help: 'Cluster workers that died unexpectedly and were restarted',
    registers: [this.own],
  });
  private readonly workers = new Gauge({
    name: 'formhub_cluster_workers',
    help: 'Cluster workers running now',
    registers: [this.own],
  });

  /** Answers `worker`'s requests for the cluster-wide metrics. */
  serve(worker: Worker): void {
    worker.on('message', (message: { type?: unknown; id?: unknown }) => {
      if (message?.type !== CLUSTER_METRICS_REQUEST || typeof message.id !== 'number') return;
      const id = message.id;
      const reply = (answer: Omit<ClusterMetricsReply, 'type' | 'id'>) => {
        // A worker gone meanwhile asked nothing any more; its /metrics request died with it.
        if (worker.isConnected())
          worker.send({ type: CLUSTER_METRICS_REPLY, id, ...answer }, () => undefined);
      };
      this.text().then(
        (text) => reply({ text }),
        (error: Error) => reply({ error: error.message }),
      );
    });
  }

  /** Prometheus text: every worker's metrics summed, then the primary's own. */
  async text(): Promise<string> {
    const [summed, own] = await Promise.all([this.aggregator.clusterMetrics(), this.own.metrics()]);
    return `${summed.trimEnd()}\n${own}`;
  }

  recordRestart(): void {
    this.restarts.inc();
  }

  setWorkers(count: number): void {
    this.workers.set(count);
  }
}
