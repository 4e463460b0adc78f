import type { OutboxEvent } from '../events/index.ts';
import { tracer, type TraceSpan } from '../tracing/index.ts';

/**
 * The relay's spans for one batch (tracing on): one per event that carries a trace context,
 * a child of it, so each submission's trace goes on through the relay to its attempts. The
 * batch's shared work (the PostgreSQL statements, the BullMQ enqueue) runs in the first
 * traced event's span, which links to the other events' traces. With tracing off, or for
 * events without a context, this does nothing.
 */
export class RelaySpans {
  private readonly spans = new Map<string, TraceSpan>();
  private readonly first: TraceSpan | undefined;

  constructor(events: readonly OutboxEvent[]) {
    const t = tracer();
    if (!t.enabled) return;
    const traced = events.filter((e) => e.traceContext);
    for (const [index, event] of traced.entries()) {
      const links = index === 0 ? traced.slice(1, 128).map((e) => e.traceContext!) : [];
      const span = t.start('outbox relay', event.traceContext, {
        kind: 'consumer',
        links,
        attributes: {
          'formhub.event.id': event.id,
          'formhub.event.type': event.type,
          'formhub.relay.batch_size': events.length,
        },
      });
      this.spans.set(event.id, span);
    }
    this.first = this.spans.values().next().value;
  }

  /** Runs `fn` in the batch's span (the first traced event's), or as it is when there is none. */
  run<T>(fn: () => T): T {
    return this.first ? this.first.run(fn) : fn();
  }

  /**
   * What the event's deliveries store (jsonb text): the relay span's context, else the
   * event's own (a relay without tracing passes it on to workers that may have it).
   */
  contextFor(event: OutboxEvent): string | null {
    const carrier = this.spans.get(event.id)?.carrier() ?? event.traceContext;
    return carrier ? JSON.stringify(carrier) : null;
  }

  fail(error: unknown): void {
    for (const span of this.spans.values()) span.fail(error);
  }

  end(): void {
    for (const span of this.spans.values()) span.end();
    this.spans.clear();
  }
}
