import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busSubscribed } from '../support/cache-bus.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort, startServer } from '../support/process.ts';
import { waitUntil } from '../support/resilience.ts';

const ADMIN = 'cache-admin-key-0123456789';
type Server = Awaited<ReturnType<typeof startServer>>;

/** Two `formhub api` processes on one database and one Redis prefix, as behind a balancer. */
describe('cache invalidation across processes', () => {
  let database: TestDatabase;
  let dataDir: string;
  const servers: Server[] = [];
  const ports: number[] = [];
  const redisPrefix = `formhub-test:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-cache-'));
    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      REDIS_PREFIX: redisPrefix,
      FORMHUB_ADMIN_KEY: ADMIN,
      FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CACHE_L1_TTL: '5m', // far longer than the test: only invalidation can make a change show
      CACHE_L2_TTL: '1h',
      LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      servers.push(await startServer(['api'], env, port)); // one after the other: the first migrates
    }
  }, 120_000);

  afterAll(async () => {
    redis.disconnect();
    for (const server of servers) await server.stop();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (port: number, method: string, path: string, key?: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v2${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };

  it('shows a PATCH and a DELETE made on one process on the other', async () => {
    const [one, two] = ports as [number, number];
    const ws = (await call(one, 'POST', '/workspaces', ADMIN, { name: 'two processes' })).json;
    const form = (
      await call(one, 'POST', '/forms', ws.api_key, {
        title: 'v1',
        fields: [{ key: 'q', type: 'text' }],
      })
    ).json;

    // Both processes hold the form in L1 (and the route answer in the route cache).
    for (const port of [one, two, two]) {
      expect((await call(port, 'GET', `/forms/${form.id}/schema`)).json.title).toBe('v1');
      expect((await call(port, 'GET', `/forms/${form.id}`, ws.api_key)).json.title).toBe('v1');
    }
    expect((await call(two, 'GET', `/forms/${form.id}`, ws.api_key)).headers.get('x-cache')).toBe(
      'hit',
    );
    // Both processes' cache buses are subscribed (Redis has acknowledged them), so the
    // invalidation the PATCH publishes reaches the second one.
    await redis.connect();
    await busSubscribed(redis, redisPrefix, 2);

    // How fast the change travels is a benchmark's question; here it must arrive, with the
    // deadlines (15 s) only as a last guard. The L1 lifetime is 5 minutes: nothing else
    // than the invalidation can make the change show.
    expect(
      (await call(one, 'PATCH', `/forms/${form.id}`, ws.api_key, { title: 'v2' })).status,
    ).toBe(200);
    let schemaTitle = 'v1';
    let routeTitle = 'v1';
    await waitUntil(
      async () => {
        schemaTitle = (await call(two, 'GET', `/forms/${form.id}/schema`)).json.title;
        routeTitle = (await call(two, 'GET', `/forms/${form.id}`, ws.api_key)).json.title;
        return schemaTitle === 'v2' && routeTitle === 'v2';
      },
      15_000,
      'the PATCH to show on the other process',
      20,
    );
    expect({ schemaTitle, routeTitle }).toEqual({ schemaTitle: 'v2', routeTitle: 'v2' });

    // A deleted form disappears from the other process too.
    expect((await call(one, 'DELETE', `/forms/${form.id}`, ws.api_key)).status).toBe(204);
    let status = 200;
    await waitUntil(
      async () => (status = (await call(two, 'GET', `/forms/${form.id}/schema`)).status) === 404,
      15_000,
      'the DELETE to show on the other process',
      20,
    );
    expect(status).toBe(404);
  });
});
