import { randomUUID } from 'node:crypto';
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { redisStatement } from './redis-statement.ts';
import type { Tracer } from './tracer.ts';
import type { ProcessMode } from './tracer.ts';

/** Paths an HTTP server span is not made for: probes and scrapes, many a minute. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts the SDK. Loaded only when tracing is on (src/tracing/index.ts), so none of this
 * runs, and no module is patched, when it is off.
 *
 * ESM: the hub's `import pg from 'pg'` and the like go through Node's module loader, so
 * the import-in-the-middle loader hook is registered first, told to wrap only the modules
 * the instrumentations hook (http, https, pg, pg-pool, ioredis); CommonJS `require`s inside
 * those packages are patched by require-in-the-middle. undici is traced through its
 * diagnostics channels, whichever way it is loaded.
 */
export async function startSdk(options: {
  mode: ProcessMode;
  protocol: 'http/protobuf' | 'http/json';
}): Promise<{ tracer: Tracer; shutdown(): Promise<void> }> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const [api, sdk, resources, instrumentation, http, pg, ioredis, undici, exporter, own] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-undici'),
      options.protocol === 'http/json'
        ? import('@opentelemetry/exporter-trace-otlp-http')
        : import('@opentelemetry/exporter-trace-otlp-proto'),
      import('./otel-tracer.ts'),
    ]);

  // The SDK's own problems (an exporter that cannot reach the collector) go to stderr.
  api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.WARN);
  // Defaults first; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) override them.
  const resource = resources
    .resourceFromAttributes({
      'service.name': 'formhub',
      'service.instance.id': randomUUID(),
      'formhub.mode': options.mode,
    })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/_HEADERS/_TIMEOUT itself; the
  // provider reads OTEL_TRACES_SAMPLER(_ARG) and the batch processor OTEL_BSP_*.
  const provider = new sdk.NodeTracerProvider({
    resource,
    spanProcessors: [new sdk.BatchSpanProcessor(new exporter.OTLPTraceExporter())],
  });
  provider.register({ propagator: new own.ExtractOnlyPropagator() });

  const disable = instrumentation.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
        // Outgoing HTTP is undici's (below); node:http clients (e.g. connector SDKs) only
        // within a trace.
        requireParentforOutgoingSpans: true,
      }),
      // Only within a trace: the relay's and the worker's polling would otherwise be a
      // trace per query, many a second on an idle hub.
      // No span for taking a pooled connection (almost always instant): one span fewer
      // per checkout. Statements are recorded without their parameters (answers stay out).
      new pg.PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new ioredis.IORedisInstrumentation({
        requireParentSpan: true,
        dbStatementSerializer: redisStatement,
      }),
      new undici.UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  await waitForAllMessagesAcknowledged();

  return {
    tracer: own.otelTracer(''),
    async shutdown() {
      disable();
      await provider.shutdown();
    },
  };
}
