/**
 * A running multi-host cluster (test/support/multi-host.ts) and what the checks ask of it:
 * API calls to a given host, submissions spread over both APIs, and the deliveries as
 * PostgreSQL and the receiver see them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './database.ts';
import {
  startFormhub,
  startReceiverHost,
  type HostProcess,
  type ReceiverHost,
  type Role,
  type Topology,
} from './multi-host.ts';

export const ADMIN = `multihost-admin-${randomBytes(8).toString('hex')}`;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** One key for every host: what one host seals (webhook secrets) another must open. */
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * The hubs' environment. WEBHOOK_TIMEOUT_MS bounds how long a killed worker holds its
 * deliveries: the PostgreSQL lease is the timeout + 10 s and BullMQ's job lock the timeout
 * + 20 s (checked every 15 s), so 5 s here makes recovery take 25-45 s (docs/deploy.md).
 * The receiver holds requests 2 s in the kill check, well within it.
 */
export function hubEnv(topology: Topology, database: TestDatabase, prefix: string, dir: string) {
  return (role: Role): Record<string, string> => ({
    DATABASE_URL: topology.databaseUrl(database.url),
    DATABASE_POOL_MIN: '0',
    DATABASE_POOL_MAX: '5', // the test's PostgreSQL may be shared (100 connections here)
    REDIS_URL: topology.redisUrl,
    REDIS_PREFIX: prefix,
    DATA_DIR: join(dir, role),
    HOST: topology.listenHost,
    FORMHUB_ADMIN_KEY: ADMIN,
    FORMHUB_ENCRYPTION_KEY: ENCRYPTION_KEY,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: '5000',
    WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,2s,5s',
    CACHE_L1_TTL: '5m', // far longer than the test: only invalidation can make a change show
    CACHE_L2_TTL: '1h',
  });
}

export interface Cluster {
  topology: Topology;
  database: TestDatabase;
  sql: pg.Pool;
  redis: Redis;
  prefix: string;
  processes: Partial<Record<Role, HostProcess>>;
  receiver: ReceiverHost;
  apiBase: Record<'api-a' | 'api-b', string>;
  close(): Promise<void>;
}

/** Starts the database, the receiver and the four hub processes (api-a first: it migrates). */
export async function startCluster(makeTopology: () => Promise<Topology>): Promise<Cluster> {
  const topology = await makeTopology();
  const prefix = `formhub-test:multihost-${randomBytes(4).toString('hex')}:`;
  const dir = mkdtempSync(join(tmpdir(), 'formhub-multihost-'));
  const processes: Partial<Record<Role, HostProcess>> = {};
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let database: TestDatabase | undefined;
  let sql: pg.Pool | undefined;
  const close = async () => {
    for (const child of Object.values(processes)) await child.stop().catch(() => undefined);
    await topology.close();
    await sql?.end().catch(() => undefined);
    await database?.drop();
    await clearPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    database = await createTestDatabase();
    sql = new pg.Pool({ connectionString: database.url, max: 3 });
    const env = hubEnv(topology, database, prefix, dir);
    const receiver = await startReceiverHost(topology);
    processes.receiver = receiver.process;
    const ports = { 'api-a': await topology.port('api-a'), 'api-b': await topology.port('api-b') };
    processes['api-a'] = await startFormhub(
      topology.hosts['api-a'],
      'api',
      env('api-a'),
      ports['api-a'],
    );
    const rest = await Promise.all([
      startFormhub(topology.hosts['api-b'], 'api', env('api-b'), ports['api-b']),
      startFormhub(topology.hosts['worker-a'], 'worker', env('worker-a'), 0),
      startFormhub(topology.hosts['worker-b'], 'worker', env('worker-b'), 0),
    ]);
    [processes['api-b'], processes['worker-a'], processes['worker-b']] = rest;
    const apiBase = {
      'api-a': `http://${topology.hosts['api-a'].address}:${ports['api-a']}`,
      'api-b': `http://${topology.hosts['api-b'].address}:${ports['api-b']}`,
    };
    return { topology, database, sql, redis, prefix, processes, receiver, apiBase, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  for (let i = 0; i < 10_000; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
    if (cursor === '0') return;
  }
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

/** One API call to `base`, bounded to 10 s. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown } = {},
): Promise<Answer> {
  const res = await fetch(`${base}/api/v2${path}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A published form with `hooks` webhooks to the receiver (paths /hook/<form>/<n>). */
export async function formWithWebhooks(
  cluster: Cluster,
  key: string,
  title: string,
  hooks: number,
): Promise<{ formId: string; webhookIds: string[] }> {
  const base = cluster.apiBase['api-a'];
  const form = await call(base, 'POST', '/forms', {
    key,
    body: { title, status: 'published', fields: [{ key: 'n', type: 'integer', required: true }] },
  });
  if (form.status !== 201) throw new Error(`POST /forms: ${form.status} ${form.text}`);
  const formId = String(form.json.id);
  const webhookIds: string[] = [];
  for (let i = 0; i < hooks; i++) {
    const url = `${cluster.receiver.base}/hook/${formId}/${i}`;
    const hook = await call(base, 'POST', `/forms/${formId}/webhooks`, { key, body: { url } });
    if (hook.status !== 201) throw new Error(`POST webhooks: ${hook.status} ${hook.text}`);
    webhookIds.push(String(hook.json.id));
  }
  return { formId, webhookIds };
}

/** Submits `count` responses without a key, alternating api-a and api-b, 10 at a time. */
export async function submitSpread(
  cluster: Cluster,
  formId: string,
  count: number,
): Promise<{ ids: string[]; statusesByApi: Record<string, number[]> }> {
  const statusesByApi: Record<string, number[]> = { 'api-a': [], 'api-b': [] };
  const ids: string[] = [];
  for (let chunk = 0; chunk < count; chunk += 10) {
    const batch = Array.from({ length: Math.min(10, count - chunk) }, (_, i) => chunk + i);
    await Promise.all(
      batch.map(async (n) => {
        const api = n % 2 === 0 ? 'api-a' : 'api-b';
        const res = await call(cluster.apiBase[api], 'POST', `/forms/${formId}/responses`, {
          body: { data: { n } },
        });
        statusesByApi[api]!.push(res.status);
        if (res.status === 201) ids.push(String(res.json.id));
      }),
    );
  }
  return { ids, statusesByApi };
}

export interface DeliveryRow {
  id: string;
  integration_id: string;
  event_id: string;
  status: string;
  attempts: number;
  failed_attempts: number;
}

/** The deliveries of `formId`'s webhooks, with how many of their attempts failed. */
export async function deliveriesOf(cluster: Cluster, formId: string): Promise<DeliveryRow[]> {
  const { rows } = await cluster.sql.query<DeliveryRow>(
    `SELECT d.id, d.integration_id, d.event_id, d.status, d.attempts,
       (SELECT count(*)::int FROM delivery_attempts a
         WHERE a.delivery_id = d.id AND (a.status_code < 200 OR a.status_code > 299)) AS failed_attempts
     FROM deliveries d JOIN integrations i ON i.id = d.integration_id WHERE i.form_id = $1`,
    [formId],
  );
  return rows;
}

/** The events `formId` raised (one per completed submission). */
export async function eventsOf(cluster: Cluster, formId: string): Promise<string[]> {
  const { rows } = await cluster.sql.query<{ id: string }>(
    "SELECT id FROM outbox WHERE form_id = $1 AND event_type = 'response.submitted'",
    [formId],
  );
  return rows.map((r) => r.id);
}
