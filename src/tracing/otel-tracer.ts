import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { SpanOptions, TraceCarrier, TraceSpan, Tracer } from './tracer.ts';

const w3c = new W3CTraceContextPropagator();
const KINDS = {
  internal: SpanKind.INTERNAL,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
} as const;

/** The W3C headers of a context's span, or null when it has none. */
function toCarrier(ctx: Context): TraceCarrier | null {
  if (!trace.getSpanContext(ctx)) return null;
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  if (!carrier.traceparent) return null;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

function fromCarrier(carrier: TraceCarrier): Context {
  return w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

class OtelSpan implements TraceSpan {
  constructor(
    private readonly span: Span,
    private readonly ctx: Context,
  ) {}

  run<T>(fn: () => T): T {
    return context.with(this.ctx, fn);
  }

  carrier(): TraceCarrier | null {
    return toCarrier(this.ctx);
  }

  setAttributes(attributes: Record<string, string | number | boolean>): void {
    this.span.setAttributes(attributes);
  }

  fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  end(): void {
    this.span.end();
  }
}

/** The Tracer facade over the OpenTelemetry API (registered by ./sdk.ts). */
export function otelTracer(version: string): Tracer {
  const otel = trace.getTracer('formhub', version);
  return {
    enabled: true,
    current: () => toCarrier(context.active()),
    start(name: string, parent: TraceCarrier | null | undefined, options: SpanOptions = {}) {
      const parentCtx = parent ? fromCarrier(parent) : context.active();
      const links: Link[] = [];
      for (const link of options.links ?? []) {
        const linked = trace.getSpanContext(fromCarrier(link));
        if (linked) links.push({ context: linked });
      }
      const span = otel.startSpan(
        name,
        { kind: KINDS[options.kind ?? 'internal'], attributes: options.attributes, links },
        parentCtx,
      );
      return new OtelSpan(span, trace.setSpan(parentCtx, span));
    },
    nameRequest(method: string, route: string) {
      const span = trace.getActiveSpan();
      if (!span) return;
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    },
  };
}

/**
 * The process-wide propagator: it reads `traceparent`/`tracestate` from requests (a caller's
 * trace continues into the hub) but writes them into none. The hub's outgoing requests go
 * to third parties (webhook receivers, Slack, Google, Salesforce), which, as with Svix, get
 * no trace headers: the hub's trace ids are its own, and a webhook's headers do not change
 * with how the hub is operated. The attempt's spans record the request instead.
 */
export class ExtractOnlyPropagator implements TextMapPropagator {
  inject(): void {}

  extract(ctx: Context, carrier: unknown, getter = defaultTextMapGetter): Context {
    return w3c.extract(ctx, carrier, getter);
  }

  fields(): string[] {
    return w3c.fields();
  }
}
