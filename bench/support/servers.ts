/**
 * The submit benchmark's servers, each in a process of its own on a database of its own:
 * the hub (`formhub api`) and the bare baseline (bench/baseline/bare-insert-server.ts).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { migrate, PgDatabase } from '../../src/db/index.ts';
import type { TestDatabase } from '../../test/support/database.ts';
import { freePort, startServer } from '../../test/support/process.ts';
import { benchScriptArgs } from './hub-node-flags.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './rate-limits.ts';
import { BENCH_FORM } from './workload.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BARE_SERVER = fileURLToPath(new URL('../baseline/bare-insert-server.ts', import.meta.url));

/** What every server gets alike: the pool size, and the hub's Redis and admin key. */
export interface ServerOptions {
  poolSize: number;
  poolMin: number;
  redisUrl: string;
  adminKey: string;
}

/**
 * The servers to compare: the hub; `bare-same`, a bare server doing the hub's submission work
 * (the same validation with the hub's validator, the same one statement writing the response
 * and its outbox row, the same NOTIFY after it: the baseline of the ratio verdict); and two
 * that do less, kept for comparison with earlier figures: `bare-sql` (the hub's one statement,
 * the form cached, no validation, no NOTIFY) and `bare` (one plain INSERT, no outbox row).
 */
export type Kind = 'hub' | 'bare' | 'bare-sql' | 'bare-same';
export const KINDS: readonly Kind[] = ['hub', 'bare-same', 'bare-sql', 'bare'];
export const NAMES: Record<Kind, string> = {
  hub: 'formhub api (fastify)',
  'bare-same': "bare node:http, the hub's validation + 1 write + NOTIFY",
  'bare-sql': "bare node:http, hub's 1 write (form cached), no validation",
  bare: 'bare node:http + pg.Pool, 1 INSERT',
};

/** BARE_MODE of bench/baseline/bare-insert-server.ts for each bare kind. */
const BARE_MODES: Record<Exclude<Kind, 'hub'>, string> = {
  bare: 'insert',
  'bare-sql': 'hub-sql',
  'bare-same': 'same',
};

export interface RunningServer {
  kind: Kind;
  name: string;
  pid: number;
  base: string;
  databaseUrl: string;
  stop(): Promise<unknown>;
}

/**
 * Starts `formhub api` (rate limits on but out of reach, LOG_LEVEL=warn) on 127.0.0.1 and waits
 * until it is ready; `nodeArgs` go to node before the script (e.g. `--cpu-prof`).
 */
export async function startHubProcess(
  options: ServerOptions,
  database: TestDatabase,
  redisPrefix: string,
  nodeArgs: readonly string[] = [],
): Promise<RunningServer> {
  const port = await freePort();
  const env = {
    DATABASE_URL: database.url,
    DATABASE_POOL_MIN: String(options.poolMin),
    DATABASE_POOL_MAX: String(options.poolSize),
    HOST: '127.0.0.1',
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: redisPrefix,
    FORMHUB_ADMIN_KEY: options.adminKey,
    FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...OUT_OF_REACH_RATE_LIMITS,
    LOG_LEVEL: 'warn',
  };
  const server = await startServer(['api'], env, port, 60_000, { nodeArgs: [...nodeArgs] });
  return {
    kind: 'hub',
    name: NAMES.hub,
    pid: server.child.pid!,
    base: `http://127.0.0.1:${port}`,
    databaseUrl: database.url,
    stop: server.stop,
  };
}

/** Polls `url` until it answers 2xx; fails when the child exits or after `timeoutMs`. */
async function waitReady(child: ChildProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the bare server exited early (${child.exitCode})`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`the bare server was not ready within ${timeoutMs} ms`);
}

/** Starts a bare baseline server (BARE_MODES) and waits until it is ready. */
export async function startBareProcess(
  options: ServerOptions,
  kind: Exclude<Kind, 'hub'>,
  database: TestDatabase,
  workspaceId: string,
): Promise<RunningServer> {
  const port = await freePort();
  const env = {
    ...process.env,
    BARE_MODE: BARE_MODES[kind],
    DATABASE_URL: database.url,
    WORKSPACE_ID: workspaceId,
    PORT: String(port),
    HOST: '127.0.0.1',
    POOL_SIZE: String(options.poolSize),
    POOL_MIN: String(options.poolMin),
  };
  const child = spawn(process.execPath, benchScriptArgs(BARE_SERVER), {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  await waitReady(child, `${base}/healthz`);
  return {
    kind,
    name: NAMES[kind],
    pid: child.pid!,
    base,
    databaseUrl: database.url,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** POSTs JSON with a bearer key; throws unless the answer is 201. */
export async function postJson(
  url: string,
  key: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates the workspace and the published form through the hub's API. */
export async function setUpForm(
  options: ServerOptions,
  hub: RunningServer,
): Promise<{ workspaceId: string; formId: string }> {
  const ws = await postJson(`${hub.base}/api/v2/workspaces`, options.adminKey, { name: 'bench' });
  const form = await postJson(`${hub.base}/api/v2/forms`, String(ws.api_key), BENCH_FORM);
  return { workspaceId: String(ws.id), formId: String(form.id) };
}

/** Gives the bare server's database the hub's schema and the same workspace and form rows. */
export async function prepareBareDatabase(
  database: TestDatabase,
  ids: { workspaceId: string; formId: string },
) {
  const db = new PgDatabase({ url: database.url, poolMin: 0, poolMax: 2 });
  try {
    await migrate(db);
    await db.query('INSERT INTO workspaces (id, name) VALUES ($1, $2)', [ids.workspaceId, 'bench']);
    await db.query(
      `INSERT INTO forms (id, workspace_id, title, status, fields) VALUES ($1, $2, $3, 'published', $4::jsonb)`,
      [ids.formId, ids.workspaceId, BENCH_FORM.title, JSON.stringify(BENCH_FORM.fields)],
    );
  } finally {
    await db.close();
  }
}

/** The PostgreSQL backends serving this database now (mostly the server's pool). */
export async function backendPids(databaseUrl: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** How many responses the database holds. */
export async function countResponses(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM responses');
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under `prefix` (bounded: at most 10,000 SCAN rounds). */
export async function clearRedis(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = nextCursor;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}
