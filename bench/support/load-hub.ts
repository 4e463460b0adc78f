/**
 * The hub under load, started by the load benchmarks as child processes on a fresh
 * database and a private Redis key prefix: `formhub api --workers N` (the cluster) and,
 * for the 1,000-user scenario, `formhub worker` (topology `split`); or one `formhub serve`
 * (topology `serve`: API, relay and worker in one process, the default single-machine
 * setup). Traffic goes to 127.0.0.1 only.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { STARTUP_V8_FLAGS } from '../../src/cli/runtime-flags.ts';
import { BIN, childEnv, freePort, startServer } from '../../test/support/process.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './rate-limits.ts';
import { clearRedis, postJson } from './servers.ts';
import { BENCH_FORM } from './workload.ts';

/** `split`: `formhub api --workers N` (+ `formhub worker`); `serve`: one `formhub serve`. */
export type Topology = 'split' | 'serve';

export interface HubOptions {
  /** `split` when absent. With `serve`, `workers` and `backgroundWorker` are not used. */
  topology?: Topology;
  workers: number;
  /** Also run `formhub worker` (outbox relay, deliveries, analytics aggregation). */
  backgroundWorker: boolean;
  /** Extra environment for every hub process, e.g. `CACHE_ENABLED=false`. */
  env: Record<string, string>;
  /** Database connections per API worker (with `serve`: of the one process). */
  apiPoolMax: number;
  workerPoolMax: number;
  redisUrl: string;
}

export interface LoadHub {
  base: string;
  adminKey: string;
  database: TestDatabase;
  redisPrefix: string;
  /** The cluster's primary, its workers, and the background worker (if any); with `serve`, the one process as `primary`. */
  pids(): Promise<{ primary: number; workers: number[]; background?: number }>;
  stop(): Promise<void>;
}

/** Starts the hub and waits until every cluster worker serves. */
export async function startLoadHub(options: HubOptions): Promise<LoadHub> {
  const database = await createTestDatabase();
  const redisPrefix = `formhub-bench-load:${randomBytes(4).toString('hex')}:`;
  const adminKey = `bench-admin-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const serve = options.topology === 'serve';
  const env = {
    DATABASE_URL: database.url,
    // The primary splits the pool among its workers: these give each worker 2..apiPoolMax.
    DATABASE_POOL_MIN: String(serve ? 2 : 2 * options.workers),
    DATABASE_POOL_MAX: String(options.apiPoolMax * (serve ? 1 : options.workers)),
    HOST: '127.0.0.1',
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: redisPrefix,
    FORMHUB_ADMIN_KEY: adminKey,
    FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Every virtual user comes from 127.0.0.1: limits on, as in production, but out of reach.
    ...OUT_OF_REACH_RATE_LIMITS,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  let background: ChildProcess | undefined;
  let api: Awaited<ReturnType<typeof startServer>> | undefined;
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await api?.stop();
    if (background && background.exitCode === null) {
      const exited = new Promise((resolve) => background!.once('exit', resolve));
      background.kill('SIGTERM');
      await exited;
    }
    await database.drop().catch(() => undefined);
    await clearRedis(options.redisUrl, redisPrefix).catch(() => undefined);
  };
  try {
    if (serve) {
      api = await startServer(['serve'], env, port, 180_000);
      const pid = api.child.pid!;
      return {
        base,
        adminKey,
        database,
        redisPrefix,
        pids: async () => ({ primary: pid, workers: [] }),
        stop,
      };
    }
    api = await startServer(['api', '--workers', String(options.workers)], env, port, 180_000);
    if (options.backgroundWorker) {
      background = spawn(process.execPath, [...STARTUP_V8_FLAGS, BIN, 'worker'], {
        // Info logs only to see when it is up; its stdout is read and dropped.
        env: childEnv({
          ...env,
          DATABASE_POOL_MAX: String(options.workerPoolMax),
          LOG_LEVEL: 'info',
        }),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await workerRunning(background, 180_000);
    }
    const pids = async () => ({
      primary: api!.child.pid!,
      workers: options.workers > 1 ? await clusterWorkerPids(base) : [api!.child.pid!],
      background: background?.pid,
    });
    await waitFor(async () => (await pids()).workers.length === options.workers, 180_000);
    return { base, adminKey, database, redisPrefix, pids, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The live cluster workers' pids, from `formhub_cluster_worker_info` on /metrics. */
export async function clusterWorkerPids(base: string): Promise<number[]> {
  const text = await fetch(`${base}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  return [...text.matchAll(/^formhub_cluster_worker_info\{pid="(\d+)",worker="\d+"\} 1$/gm)].map(
    (m) => Number(m[1]),
  );
}

/** Resolves once `formhub worker` logs that it is running; rejects if it exits or takes too long. */
function workerRunning(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`formhub worker not running within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('exit', (code) => reject(new Error(`formhub worker exited early (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (seen === 'yes') return;
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (!seen.includes('"msg":"formhub is running"')) return;
      seen = 'yes';
      clearTimeout(timer);
      resolve();
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the hub was not fully up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A workspace, its key, and `count` published forms (BENCH_FORM, numbered titles). */
export async function createForms(
  hub: LoadHub,
  count: number,
): Promise<{ key: string; formIds: string[] }> {
  const ws = await postJson(`${hub.base}/api/v2/workspaces`, hub.adminKey, { name: 'load bench' });
  const key = String(ws.api_key);
  const formIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const form = await postJson(`${hub.base}/api/v2/forms`, key, {
      ...BENCH_FORM,
      title: `${BENCH_FORM.title} #${i + 1}`,
    });
    formIds.push(String(form.id));
  }
  return { key, formIds };
}
