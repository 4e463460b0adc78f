import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import type { Config } from '../../src/config/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { buildApp, createHub } from '../../src/hub/index.ts';
import { createRedis } from '../../src/redis/index.ts';
import type { TestHub } from './hub.ts';

export interface SecondHost {
  app: FastifyInstance;
  config: Config;
  /** Its own DATA_DIR: nothing of the first host's disk is reachable from it. */
  dataDir: string;
  request(options: InjectOptions & { key?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * Another API host of the same cluster as `first`: its own hub and app, database pool and
 * Redis connection, on the same PostgreSQL database and Redis prefix, and a DATA_DIR of its
 * own (a fresh folder, or `dataDir`). `exportTtlMs` sets its EXPORT_TTL.
 */
export async function startSecondHost(
  first: TestHub,
  options: { dataDir?: string; exportTtlMs?: number } = {},
): Promise<SecondHost> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'formhub-second-host-'));
  const config: Config = {
    ...first.config,
    dataDir,
    exports: { ...first.config.exports, ttlMs: options.exportTtlMs ?? first.config.exports.ttlMs },
  };
  const db = await openDatabase(config);
  const redis = createRedis(config);
  await redis.connect();
  const services = await createHub({ config, db, redis, logger: pino({ level: 'silent' }) });
  const app = await buildApp(services, { logger: false });
  await app.ready();
  return {
    app,
    config,
    dataDir,
    request({ key, headers, ...rest }) {
      return app.inject({
        ...rest,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      });
    },
    async close() {
      await app.close();
      await services.close();
      redis.disconnect();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
