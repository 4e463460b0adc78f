import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse, RouteOptions } from 'fastify';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { buildApp, createHub, type Hub } from '../../src/hub/index.ts';
import { createRedis, type Redis } from '../../src/redis/index.ts';
import { startWorker, type RunningWorker } from '../../src/worker/index.ts';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface TestHub {
  app: FastifyInstance;
  db: Database;
  redis: Redis;
  config: Config;
  /** The services the app and the worker run on: production's own wiring. */
  services: Hub;
  /** The in-process worker, when started with `{ worker: true }`. */
  worker: RunningWorker | undefined;
  /** Sends a request; `key` becomes `Authorization: Bearer <key>`. */
  request(options: InjectOptions & { key?: string }): Promise<LightMyRequestResponse>;
  /** A new workspace; answers its id and API key. */
  workspace(name?: string): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

/**
 * A hub on a fresh PostgreSQL database and a random Redis key prefix, for one test file.
 * `env` overrides configuration (e.g. rate limits).
 */
export async function startHub(
  env: Record<string, string> = {},
  options: {
    worker?: boolean;
    embedded?: boolean;
    clock?: () => Date;
    /** Sees every route as the app adds it (see `AppOptions.onRoute`). */
    onRoute?: (route: RouteOptions) => void;
  } = {},
): Promise<TestHub> {
  // Embedded: PGlite in a temporary folder (no DATABASE_URL), as `npm start` runs.
  const database: TestDatabase | undefined = options.embedded
    ? undefined
    : await createTestDatabase();
  const dataDir = options.embedded ? mkdtempSync(join(tmpdir(), 'formhub-embedded-')) : './data';
  const config = loadConfig({
    ...(database ? { DATABASE_URL: database.url } : {}),
    DATA_DIR: dataDir,
    DATABASE_POOL_MIN: '0',
    DATABASE_POOL_MAX: '10',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `formhub-test:${randomBytes(4).toString('hex')}:`,
    FORMHUB_ADMIN_KEY: ADMIN_KEY,
    FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    // In-process hubs share one event loop: starting a second one blocks the first for
    // seconds, which load shedding would rightly answer with 503s. Tests of it turn it on.
    LOAD_SHEDDING: 'false',
    ...env,
  });
  const db = await openDatabase(config);
  await migrate(db);
  const redis = createRedis(config);
  await redis.connect();
  const logger = pino({ level: 'silent' });
  const services = await createHub({ config, db, redis, logger });
  const app = await buildApp(services, {
    logger: false,
    clock: options.clock,
    onRoute: options.onRoute,
  });
  await app.ready();
  const worker = options.worker ? await startWorker(services) : undefined;
  const hub: TestHub = {
    app,
    db,
    redis,
    config,
    services,
    worker,
    request({ key, headers, ...options }) {
      return app.inject({
        ...options,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      });
    },
    async workspace(name = 'Test workspace') {
      const res = await hub.request({
        method: 'POST',
        url: '/api/v2/workspaces',
        key: ADMIN_KEY,
        payload: { name },
      });
      if (res.statusCode !== 201) throw new Error(`workspace: ${res.statusCode} ${res.body}`);
      const body = res.json() as { id: string; api_key: string };
      return { id: body.id, key: body.api_key };
    },
    async close() {
      await app.close();
      await worker?.close();
      await services.close();
      const keys = await redis.keys(`${config.redis.prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await db.close();
      await database?.drop();
      if (options.embedded) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return hub;
}
