import pino, { type Logger } from 'pino';
import { loadEncryptionKey, type Config } from '../config/index.ts';
import {
  DataDirInUseError,
  describeDatabase,
  migrate,
  openDatabase,
  type Database,
  type OpenOptions,
} from '../db/index.ts';
import { checkRedis, createRedis, describeRedis, type Redis } from '../redis/index.ts';
import { StartupError } from './configure.ts';

export { configure, StartupError } from './configure.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  redis: Redis;
}

/**
 * Connects to Redis and the database (migrating it), saying plainly what is missing.
 * `embedded` and `command` say how to share DATA_DIR's embedded database (src/db/index.ts).
 */
export async function connect(
  config: Config,
  options: { migrate: boolean } & OpenOptions,
): Promise<Runtime> {
  const logger = pino({ level: config.logLevel, base: { service: 'formhub' } });
  try {
    await checkRedis(config.redis.url);
  } catch (error) {
    throw new StartupError(
      `cannot reach Redis at ${describeRedis(config.redis.url)} (${reason(error)}). ` +
        'Start it (redis-server --daemonize yes) or set REDIS_URL.',
    );
  }
  loadEncryptionKey(config);
  const redis = await connectRedis(config);
  try {
    return { config, logger, db: await connectDatabase(config, options, logger), redis };
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}

async function connectDatabase(
  config: Config,
  options: { migrate: boolean } & OpenOptions,
  logger: Logger,
) {
  const db = await openDatabase(config, options).catch((error: unknown) => {
    throw error instanceof DataDirInUseError ? new StartupError(error.message) : error;
  });
  try {
    await db.ping();
  } catch (error) {
    // The StartupError below carries the reason; a pool that never connected loses nothing.
    await db.close().catch(() => undefined);
    throw new StartupError(
      `cannot reach PostgreSQL at ${describeDatabase(config)} (${reason(error)}). ` +
        'Start PostgreSQL or fix DATABASE_URL; unset it to use the embedded database.',
    );
  }
  if (options.migrate) {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  }
  return db;
}

/** How long a Redis that answered the probe may take to accept the hub's own connection. */
const REDIS_READY_MS = 15_000;

/**
 * The hub's Redis connection, made before the database is opened (which is seconds of CPU
 * for the embedded one). On a machine whose CPU is starved, a first attempt can still miss
 * its 2 s connect timeout ("Connection is closed") although Redis just answered the probe:
 * the client reconnects by itself, so that is waited for before giving up.
 */
async function connectRedis(config: Config): Promise<Redis> {
  const redis = createRedis(config);
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('Redis did not accept a connection')),
      REDIS_READY_MS,
    );
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    await redis.connect().catch(() => ready);
  } catch (error) {
    redis.disconnect();
    throw new StartupError(
      `cannot connect to Redis at ${describeRedis(config.redis.url)} (${reason(error)}). Check REDIS_URL.`,
    );
  }
  return redis;
}

function reason(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  return e.code ?? e.errors?.[0]?.code ?? e.message ?? String(error);
}
