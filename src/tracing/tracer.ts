/** W3C trace context as stored with an event or a delivery (the headers' values). */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** Which formhub command the process runs (a resource attribute of every span). */
export type ProcessMode = 'serve' | 'api' | 'worker';

export interface SpanOptions {
  kind?: 'internal' | 'producer' | 'consumer';
  attributes?: Record<string, string | number | boolean>;
  /** Other traces this span relates to (e.g. the other events of a relayed batch). */
  links?: readonly TraceCarrier[];
}

/** A started span; `end` must be called once. */
export interface TraceSpan {
  /** Runs `fn` with this span as the active one (what pg, Redis and HTTP spans attach to). */
  run<T>(fn: () => T): T;
  /** This span's context to store, so that later work continues the trace; null when off. */
  carrier(): TraceCarrier | null;
  setAttributes(attributes: Record<string, string | number | boolean>): void;
  /** Marks the span failed with the error's message. */
  fail(error: unknown): void;
  end(): void;
}

/** What the hub's code asks of tracing; OpenTelemetry stays behind it. */
export interface Tracer {
  readonly enabled: boolean;
  /** The active span's context (to store with an event), or null when there is none. */
  current(): TraceCarrier | null;
  /** Starts a span, a child of `parent` (a stored context) or else of the active span. */
  start(name: string, parent: TraceCarrier | null | undefined, options?: SpanOptions): TraceSpan;
  /** Names the active HTTP server span after the matched route (`POST /api/v2/forms/:id/responses`). */
  nameRequest(method: string, route: string): void;
}

const NOOP_SPAN: TraceSpan = {
  run: (fn) => fn(),
  carrier: () => null,
  setAttributes: () => undefined,
  fail: () => undefined,
  end: () => undefined,
};

/** Tracing off: every call does nothing and answers null. */
export const NOOP_TRACER: Tracer = {
  enabled: false,
  current: () => null,
  start: () => NOOP_SPAN,
  nameRequest: () => undefined,
};
