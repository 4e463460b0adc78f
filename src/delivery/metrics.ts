import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptOutcome } from './outcome.ts';
import type { DeliveryQueue } from './delivery-queue.ts';

/** Prometheus metrics of the delivery engine. */
export class DeliveryMetrics {
  private readonly attempts: Counter<'connector' | 'outcome'>;
  private readonly latency: Histogram<'connector'>;
  private readonly filtered: Counter<'reason'>;
  private readonly paced: Counter<'wait'>;
  private readonly wakeups: Counter<'source'>;
  private readonly listenerUp: Gauge;

  constructor(registry: Registry, queue: DeliveryQueue) {
    this.attempts = new Counter({
      name: 'formhub_delivery_attempts_total',
      help: 'Delivery attempts by connector and outcome (succeeded, failed, dead, gone)',
      labelNames: ['connector', 'outcome'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'formhub_delivery_attempt_duration_seconds',
      help: 'Time of one delivery attempt, by connector',
      labelNames: ['connector'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.filtered = new Counter({
      name: 'formhub_deliveries_filtered_total',
      help: "Events an integration's condition kept from it, by reason (no_match, invalid_condition); no delivery row is made",
      labelNames: ['reason'],
      registers: [registry],
    });
    this.paced = new Counter({
      name: 'formhub_deliveries_rate_limited_total',
      help: 'Deliveries that waited for their rate-limit slot (none is an attempt), by how: in_process (under a second), requeued (for their slot), limiter_down (Redis did not answer; waiting in PostgreSQL)',
      labelNames: ['wait'],
      registers: [registry],
    });
    this.wakeups = new Counter({
      name: 'formhub_relay_wakeups_total',
      help: 'Times the idle outbox relay looked at the outbox, by what woke it: notify (a commit notified it), poll (its timer), listener (its listener connected or lost its connection), locked (a quick second look after the events were locked by another transaction)',
      labelNames: ['source'],
      registers: [registry],
    });
    this.listenerUp = new Gauge({
      name: 'formhub_outbox_listener_up',
      help: "1 while this process's outbox listener LISTENs (commits wake its relay at once), 0 while it polls only",
      registers: [registry],
    });
    new Gauge({
      name: 'formhub_delivery_queue_jobs',
      help: 'Jobs in the delivery queue by state (a job of new deliveries carries up to 100 attempts)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const counts = await queue.counts().catch(() => ({}) as Record<string, number>);
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
  }

  /** Counts events the relay made no delivery for, because of an integration's condition. */
  recordFiltered(reason: string, count: number): void {
    this.filtered.inc({ reason }, count);
  }

  /** Counts what made the idle relay tick. */
  recordWakeup(source: 'notify' | 'poll' | 'listener' | 'locked'): void {
    this.wakeups.inc({ source });
  }

  /** Whether the outbox listener LISTENs now. */
  setListenerUp(up: boolean): void {
    this.listenerUp.set(up ? 1 : 0);
  }

  /** Counts a delivery that waited for its rate-limit slot, and how it waited. */
  recordRateLimited(wait: 'in_process' | 'requeued' | 'limiter_down'): void {
    this.paced.inc({ wait });
  }

  recordAttempt(connector: string, outcome: AttemptOutcome, status: string): void {
    const label = outcome.kind === 'gone' ? 'gone' : status;
    this.attempts.inc({ connector, outcome: label });
    this.latency.observe({ connector }, outcome.latencyMs / 1000);
  }
}
