import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import {
  startOtlpReceiver,
  type ExportedSpan,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';
import { freePort, startServer } from '../support/process.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const ADMIN = 'tracing-admin-key-0123456789';
const RECORDER = fileURLToPath(new URL('../support/record-modules.mjs', import.meta.url));
const SERVER = 2;
const CLIENT = 3;

type Server = Awaited<ReturnType<typeof startServer>>;

/**
 * `formhub serve` as a child process, a webhook receiver and a database of its own; the
 * child is preloaded with record-modules.mjs, which lists the modules it loaded at exit.
 */
async function startTracedHub(otel: Record<string, string>) {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'formhub-tracing-'));
  const modulesOut = join(dataDir, 'modules.json');
  const port = await freePort();
  const env = {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    REDIS_PREFIX: `formhub-test:${randomBytes(4).toString('hex')}:`,
    FORMHUB_ADMIN_KEY: ADMIN,
    FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    FORMHUB_TEST_MODULES_OUT: modulesOut,
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    ...otel,
  };
  const server = await startServer(['serve'], env, port, 90_000, {
    nodeArgs: ['--import', RECORDER],
  });
  const call = async (method: string, path: string, key?: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v2${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    database,
    server,
    call,
    /** Stops the hub (SIGTERM) and answers its exit code and the modules it loaded. */
    async stop(): Promise<{ code: number | null; modules: string[] }> {
      const code = await server.stop();
      const recorded = JSON.parse(readFileSync(modulesOut, 'utf8')) as {
        esm: string[];
        cjs: string[];
      };
      return { code, modules: [...recorded.esm, ...recorded.cjs] };
    },
    async cleanUp(server?: Server) {
      if (server && server.child.exitCode === null) await server.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type TracedHub = Awaited<ReturnType<typeof startTracedHub>>;

/** A form with a webhook to `receiver`, and one submission to it; answers the response's id. */
async function submitToHookedForm(hub: TracedHub, receiver: Receiver): Promise<string> {
  const ws = (await hub.call('POST', '/workspaces', ADMIN, { name: 'traced' })).json;
  const form = (
    await hub.call('POST', '/forms', ws.api_key, {
      title: 'T',
      fields: [{ key: 'q', type: 'text' }],
    })
  ).json;
  const hook = await hub.call('POST', `/forms/${form.id}/webhooks`, ws.api_key, {
    url: receiver.url,
  });
  expect(hook.status).toBe(201);
  const submitted = await hub.call('POST', `/forms/${form.id}/responses`, undefined, {
    data: { q: 'hello' },
  });
  expect(submitted.status).toBe(201);
  return submitted.json.id as string;
}

async function traceColumns(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const outbox = await client.query<{ trace_context: { traceparent: string } | null }>(
      `SELECT trace_context FROM outbox WHERE event_type = 'response.submitted'`,
    );
    const deliveries = await client.query<{ trace_context: { traceparent: string } | null }>(
      'SELECT trace_context FROM deliveries',
    );
    return {
      outbox: outbox.rows.map((r) => r.trace_context),
      deliveries: deliveries.rows.map((r) => r.trace_context),
    };
  } finally {
    await client.end();
  }
}

const OTEL_MODULE = /@opentelemetry|import-in-the-middle|require-in-the-middle/;

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let otlp: OtlpReceiver;
  let receiver: Receiver;
  let hub: TracedHub;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    // The first attempt fails, so the retry's span is checked too.
    receiver = await startReceiver((n) => ({ status: n === 1 ? 500 : 200 }));
    hub = await startTracedHub({
      WEBHOOK_RETRY_SCHEDULE: '100ms',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
  }, 120_000);

  afterAll(async () => {
    await hub?.cleanUp(hub.server);
    await receiver?.close();
    await otlp?.close();
  });

  it('exports one trace from the submission through the relay to each delivery attempt and its request', async () => {
    await submitToHookedForm(hub, receiver);
    const [request] = await receiver.waitFor(2);
    // Webhook receivers are third parties: no trace headers are sent to them (docs/operations.md).
    expect(request!.headers.traceparent).toBeUndefined();
    expect(request!.headers.tracestate).toBeUndefined();

    const receiverPort = new URL(receiver.url).port;
    const trace = await otlp.waitFor((spans) => {
      const server = spans.find(
        (s) => s.kind === SERVER && s.name === 'POST /api/v2/forms/:id/responses',
      );
      if (!server) return undefined;
      const inTrace = spans.filter((s) => s.traceId === server.traceId);
      const relay = inTrace.find((s) => s.name === 'outbox relay');
      const attempts = inTrace.filter((s) => s.name === 'delivery attempt');
      const attempt = attempts.find((s) => s.attributes['formhub.delivery.attempt'] === 2);
      const failed = attempts.find((s) => s.attributes['formhub.delivery.attempt'] === 1);
      const outgoing = inTrace.find(
        (s) =>
          s.kind === CLIENT && s.scope.includes('undici') && s.parentSpanId === attempt?.spanId,
      );
      const sql = inTrace.find((s) => s.scope.includes('instrumentation-pg'));
      const redis = inTrace.find((s) => s.scope.includes('instrumentation-ioredis'));
      if (!relay || !attempt || !failed || !outgoing || !sql || !redis) return undefined;
      return { server, relay, attempt, failed, outgoing, sql, redis, inTrace };
    });

    const { server, relay, attempt, failed, outgoing } = trace;
    const byId = new Map(trace.inTrace.map((s) => [s.spanId, s]));
    const ancestors = (span: ExportedSpan) => {
      const chain: string[] = [];
      for (let p = byId.get(span.parentSpanId); p; p = byId.get(p.parentSpanId))
        chain.push(p.spanId);
      return chain;
    };
    // The request's span is the root here; the relay continues it; the attempt is the
    // relay's child and the webhook request the attempt's.
    expect(server.parentSpanId).toBe('');
    expect(server.attributes['http.route']).toBe('/api/v2/forms/:id/responses');
    expect(relay.parentSpanId).toBe(server.spanId);
    expect(attempt.parentSpanId).toBe(relay.spanId);
    // The failed first attempt and its retry (a new BullMQ job, which reads the context
    // back from the delivery's row) are both the relay's children; the failure is an error.
    expect(failed.parentSpanId).toBe(relay.spanId);
    expect(failed.statusCode).toBe(2);
    expect(failed.attributes['formhub.attempt.status_code']).toBe(500);
    expect(attempt.statusCode).not.toBe(2);
    expect(outgoing.parentSpanId).toBe(attempt.spanId);
    expect(String(outgoing.attributes['url.full'])).toContain(`:${receiverPort}/hook`);
    expect(attempt.attributes['formhub.delivery.status']).toBe('succeeded');
    // The submission's INSERT is a PostgreSQL span under the request; the BullMQ enqueue's
    // Redis commands are under the relay.
    const insert = trace.inTrace.find(
      (s) => s.scope.includes('instrumentation-pg') && s.parentSpanId === server.spanId,
    );
    expect(insert).toBeDefined();
    const enqueue = trace.inTrace.filter(
      (s) => s.scope.includes('instrumentation-ioredis') && ancestors(s).includes(relay.spanId),
    );
    expect(enqueue.length).toBeGreaterThan(0);
    expect(server.resource).toMatchObject({ 'service.name': 'formhub', 'formhub.mode': 'serve' });
    expect(server.resource['service.instance.id']).toEqual(expect.any(String));

    // What made that possible: the trace context stored with the event and the delivery.
    const columns = await traceColumns(hub.database.url);
    expect(columns.outbox[0]?.traceparent).toBe(`00-${server.traceId}-${server.spanId}-01`);
    expect(columns.deliveries[0]?.traceparent).toBe(`00-${server.traceId}-${relay.spanId}-01`);
    expect(otlp.rejected).toEqual([]);

    const stopped = await hub.stop();
    expect(stopped.code).toBe(0);
    // The recorder sees OpenTelemetry when it is loaded (the control for the test below).
    expect(stopped.modules.some((m) => m.includes('@opentelemetry/sdk-trace-node'))).toBe(true);
  });
});

describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  let receiver: Receiver;
  let hub: TracedHub;

  beforeAll(async () => {
    receiver = await startReceiver();
    hub = await startTracedHub({});
  }, 120_000);

  afterAll(async () => {
    await hub?.cleanUp(hub.server);
    await receiver?.close();
  });

  it('loads no OpenTelemetry module and stores no trace context', async () => {
    await submitToHookedForm(hub, receiver);
    const [request] = await receiver.waitFor(1);
    expect(request!.headers.traceparent).toBeUndefined();
    const columns = await traceColumns(hub.database.url);
    expect(columns.outbox).toEqual([null]);
    expect(columns.deliveries).toEqual([null]);

    const stopped = await hub.stop();
    expect(stopped.code).toBe(0);
    // The recorder saw the hub's own modules (pg among them), and none of OpenTelemetry's
    // SDK, exporters, instrumentations or module hooks. The one exception is the API
    // package, which prom-client (a dependency from before tracing) requires for its
    // exemplars: without an SDK every call into it is a no-op.
    expect(stopped.modules.some((m) => m.includes('/node_modules/pg/'))).toBe(true);
    const otel = stopped.modules.filter((m) => OTEL_MODULE.test(m));
    expect(otel.filter((m) => !m.includes('/node_modules/@opentelemetry/api/'))).toEqual([]);
  });
});
