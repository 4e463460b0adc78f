import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort, startServer } from '../support/process.ts';

const ADMIN = 'shutdown-admin-key-0123456789';
/** Attempts are cut after this; the worker waits that long plus 5 s for them at shutdown. */
const ATTEMPT_TIMEOUT_MS = 3_000;
/**
 * The bound asserted on the whole shutdown. Generous on purpose (a busy machine): what it
 * catches is a shutdown that waits for ever, which the process's own 30 s guard would turn
 * into exit code 1, and the test's into a timeout.
 */
const SHUTDOWN_BOUND_MS = 45_000;

/** A webhook target that takes every request and never answers: deliveries stay running. */
async function stuckTarget(): Promise<{
  url: string;
  arrived: Promise<void>;
  close(): Promise<void>;
}> {
  const held: IncomingMessage[] = [];
  let first!: () => void;
  const arrived = new Promise<void>((resolve) => (first = resolve));
  const server: Server = createServer((req) => {
    held.push(req);
    first();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrived,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('formhub serve shuts down under load', () => {
  let database: TestDatabase;
  let port: number;
  let server: Awaited<ReturnType<typeof startServer>>;
  let target: Awaited<ReturnType<typeof stuckTarget>>;
  const redisPrefix = `formhub-test:${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    database = await createTestDatabase();
    target = await stuckTarget();
    port = await freePort();
    server = await startServer(
      ['serve'],
      {
        DATABASE_URL: database.url,
        REDIS_PREFIX: redisPrefix,
        FORMHUB_ADMIN_KEY: ADMIN,
        FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
        RATE_LIMIT_PER_IP: '0',
        RATE_LIMIT_PER_FORM: '0',
        LOAD_SHEDDING: 'false',
      },
      port,
      120_000,
    );
  }, 150_000);

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await target?.close();
    await database?.drop();
    const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', {
      maxRetriesPerRequest: 1,
    });
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }, 60_000);

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
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  it('finishes within a bound, with requests, an SSE stream and deliveries open, and loses no 201', async () => {
    const ws = (await call('POST', '/workspaces', ADMIN, { name: 'shutdown' })).json;
    const key = ws.api_key as string;
    const form = (
      await call('POST', '/forms', key, { title: 'Load', fields: [{ key: 'n', type: 'integer' }] })
    ).json;
    const formId = form.id as string;
    expect((await call('POST', `/forms/${formId}/webhooks`, key, { url: target.url })).status).toBe(
      201,
    );

    // Deliveries running: the target holds every request it gets.
    expect(
      (await call('POST', `/forms/${formId}/responses`, undefined, { data: { n: -1 } })).status,
    ).toBe(201);
    await target.arrived;

    // An SSE stream open, its first event read.
    const stream = await fetch(`http://127.0.0.1:${port}/api/v2/analytics/forms/${formId}/stream`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    expect((await reader.read()).done).toBe(false);

    // A request in flight that never completes: its headers promise a body that never comes.
    const halfSent = connect(port, '127.0.0.1');
    halfSent.on('error', () => undefined);
    halfSent.write(
      `POST /api/v2/forms/${formId}/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data":',
    );

    // Submissions keep coming from four clients until the server stops taking them.
    const acknowledged: string[] = [];
    let n = 0;
    let stopped = false;
    const client = async () => {
      while (!stopped) {
        const res = await call('POST', `/forms/${formId}/responses`, undefined, {
          data: { n: n++ },
        }).catch(() => undefined);
        if (!res) return; // the server is gone
        if (res.status === 201) acknowledged.push(res.json.id as string);
      }
    };
    const clients = Array.from({ length: 4 }, client);
    while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));

    const signalled = Date.now();
    const exited = server.stop();
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((resolve) =>
        setTimeout(() => resolve('hung'), SHUTDOWN_BOUND_MS).unref(),
      ),
    ]);
    const tookMs = Date.now() - signalled;
    stopped = true;
    await Promise.all(clients);
    halfSent.destroy();
    console.log(
      `[shutdown] exited ${String(code)} after ${tookMs} ms; ${acknowledged.length} submissions acknowledged`,
    );
    expect(code, server.output().slice(-3000)).toBe(0);
    expect(tookMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    await expect(reader.read()).resolves.toMatchObject({ done: true });

    // Every response answered 201 is in the database.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const stored = await db.query<{ id: string }>(
        'SELECT id FROM responses WHERE id = ANY($1::uuid[])',
        [acknowledged],
      );
      expect(stored.rows.map((r) => r.id).sort()).toEqual([...acknowledged].sort());
    } finally {
      await db.end();
    }
  }, 120_000);
});
