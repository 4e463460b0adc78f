/**
 * OpenTelemetry tracing (DESIGN.md section 4c), off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * The rest of the hub sees only this small facade (`tracer()`), never an OpenTelemetry
 * package: with tracing off the facade is a no-op and nothing of OpenTelemetry is loaded
 * or patched. `startTracing` loads the SDK and its instrumentations (./sdk.ts, by dynamic
 * import) and must run before pg, ioredis, undici or fastify are imported (src/cli/main.ts).
 */
import type { ProcessMode, TraceCarrier, Tracer } from './tracer.ts';
import { NOOP_TRACER } from './tracer.ts';

export type { ProcessMode, SpanOptions, TraceCarrier, TraceSpan, Tracer } from './tracer.ts';

let active: Tracer = NOOP_TRACER;
let stop: (() => Promise<void>) | undefined;

/** The process's tracer: the no-op one unless `startTracing` ran. */
export function tracer(): Tracer {
  return active;
}

/**
 * Starts the OpenTelemetry SDK: OTLP/HTTP exporter, batch span processor, the http, pg,
 * ioredis and undici instrumentations. The exporter and sampler read the standard OTEL_*
 * variables themselves (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _PROTOCOL, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*).
 */
export async function startTracing(options: {
  mode: ProcessMode;
  protocol: 'http/protobuf' | 'http/json';
}): Promise<void> {
  if (stop) return;
  const { startSdk } = await import('./sdk.ts');
  const started = await startSdk(options);
  active = started.tracer;
  stop = started.shutdown;
}

/** Flushes the spans not yet exported and stops the SDK (graceful shutdown); no-op when off. */
export async function stopTracing(): Promise<void> {
  const shutdown = stop;
  stop = undefined;
  active = NOOP_TRACER;
  await shutdown?.();
}

/** Stored trace context as the database returns it (jsonb), or null if it is not one. */
export function parseCarrier(value: unknown): TraceCarrier | null {
  if (!value || typeof value !== 'object') return null;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string') return null;
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}
