import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort, startServer } from '../support/process.ts';
import { eventually } from '../support/receiver.ts';

interface Answer {
  status: number;
  pid: number;
  scope: string | undefined;
  body: string;
}

/** GET on a connection of its own, so the cluster's primary hands each request to the next worker. */
function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          pid: Number(res.headers['x-formhub-pid']),
          scope: res.headers['x-formhub-metrics-scope'] as string | undefined,
          body,
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line of Prometheus text (`name{labels}`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The pids listed by `formhub_cluster_worker_info`, sorted. */
function workerPids(text: string): number[] {
  return [...text.matchAll(/^formhub_cluster_worker_info\{pid="(\d+)",worker="\d+"\} 1$/gm)]
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The distinct pids that answered `count` GET /metrics, each on a new connection. */
async function servingPids(port: number, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < count; i++) pids.add((await get(port, '/metrics')).pid);
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('formhub api --workers 2', () => {
  let database: TestDatabase;
  let port: number;
  let server: Awaited<ReturnType<typeof startServer>>;
  const redisPrefix = `e2e-cluster-${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    database = await createTestDatabase();
    port = await freePort();
    const env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_MIN: '1',
      DATABASE_POOL_MAX: '5',
      HOST: '127.0.0.1',
      REDIS_PREFIX: redisPrefix,
      FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    server = await startServer(['api', '--workers', '2'], env, port, 150_000);
    // /readyz answered once one worker listens; wait for the second too.
    await eventually(
      async () => ((await servingPids(port, 4)).size === 2 ? true : undefined),
      90_000,
    );
  }, 240_000);

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await database?.drop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      maxRetriesPerRequest: 1,
    });
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('serves from two worker processes, neither of them the primary', async () => {
    const pids = await servingPids(port, 6);
    expect(pids.size).toBe(2);
    expect(pids.has(server.child.pid!)).toBe(false);
    const metrics = await get(port, '/metrics');
    expect(metrics.scope).toBe('cluster');
    expect(workerPids(metrics.body)).toEqual([...pids].sort((a, b) => a - b));
  });

  it('sums counters over the workers on /metrics, whichever worker answers', async () => {
    // Two requests, then /metrics: the primary hands connections to the workers in turn, so
    // both workers count some of the requests and /metrics is answered by each in turn.
    const rounds = 6;
    const answeredBy = new Set<number>();
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < 2; j++)
        expect((await get(port, '/api/v2/openapi.json')).status).toBe(200);
      answeredBy.add((await get(port, '/metrics')).pid);
    }
    expect(answeredBy.size).toBe(2);
    const requests = rounds * 2;
    const series =
      'formhub_http_requests_total{method="GET",route="/api/v2/openapi.json",status_code="200"}';
    for (let i = 0; i < 2; i++) {
      const metrics = await get(port, '/metrics');
      expect(metrics.scope).toBe('cluster');
      expect(sample(metrics.body, series)).toBe(requests);
    }
  });

  it('replaces a worker that dies, and keeps serving meanwhile', async () => {
    const before = workerPids((await get(port, '/metrics')).body);
    expect(before).toHaveLength(2);
    const [victim, survivor] = before as [number, number];
    process.kill(victim, 'SIGKILL');
    await eventually(async () => (alive(victim) ? undefined : true), 5_000);
    // The primary has seen the death (it logs it as it schedules the replacement), so from
    // here on it hands connections to the survivor only, while the replacement starts.
    await eventually(
      async () =>
        server.output().includes('cluster worker died unexpectedly; restarting it')
          ? true
          : undefined,
      30_000,
    );
    for (let i = 0; i < 4; i++) expect((await get(port, '/healthz')).status).toBe(200);
    const after = await eventually(async () => {
      const res = await get(port, '/metrics');
      const pids = workerPids(res.body);
      return res.scope === 'cluster' && pids.length === 2 && !pids.includes(victim)
        ? { pids, body: res.body }
        : undefined;
    }, 90_000);
    expect(after.pids).toContain(survivor);
    expect(alive(victim)).toBe(false);
    expect(sample(after.body, 'formhub_cluster_worker_restarts_total')).toBe(1);
    expect(sample(after.body, 'formhub_cluster_workers')).toBe(2);
    const replacement = after.pids.find((pid) => pid !== survivor)!;
    await eventually(
      async () => ((await servingPids(port, 4)).has(replacement) ? true : undefined),
      30_000,
    );
  }, 120_000);

  it('shuts every worker down on SIGTERM and exits 0', async () => {
    const pids = workerPids((await get(port, '/metrics')).body);
    expect(pids).toHaveLength(2);
    const code = await server.stop();
    expect(code, server.output().slice(-3000)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
