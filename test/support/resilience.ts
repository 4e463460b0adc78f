import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { STARTUP_V8_FLAGS } from '../../src/cli/runtime-flags.ts';
import { BIN, childEnv } from './process.ts';

/** A child process the test started, with its output and a promise of its exit. */
export interface Child {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

function track(name: string, child: ChildProcess): Child {
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => output,
    exited,
    alive,
    async stop(graceMs = 5_000) {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Pings Redis at `url` once; true when it answers. */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * A private, non-persistent redis-server on 127.0.0.1:`port`, started as a child of this
 * test (never the shared one); resolves once it answers PING.
 */
export async function startRedisServer(port: number, timeoutMs = 10_000): Promise<Child> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const redis = track(`redis-server:${port}`, child);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await redisAnswers(url))) {
    if (!redis.alive()) throw new Error(`redis-server exited early: ${redis.output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `redis-server on ${port} did not answer within ${timeoutMs} ms: ${redis.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return redis;
}

/** Starts `formhub <args>` in the background (no readiness wait). */
export function spawnFormhub(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [...STARTUP_V8_FLAGS, BIN, ...args], {
    env: childEnv(env),
  });
  return track(`formhub ${args.join(' ')}`, child);
}

/** Wraps an already spawned process (e.g. from startServer) so cleanup treats it alike. */
export function adopt(name: string, child: ChildProcess, output: () => string): Child {
  const tracked = track(name, child);
  return { ...tracked, output };
}

/** One request a webhook receiver got. */
export interface Hit {
  webhookId: string;
  responseId: string | undefined;
  headers: IncomingHttpHeaders;
  at: number;
  /** Set once the 2xx answer was written to a connection that was still open. */
  acknowledged: boolean;
}

export interface TrackingReceiver {
  url: string;
  hits: Hit[];
  /** Distinct `response.id`s seen in bodies. */
  responseIds(): Set<string>;
  /** Distinct `response.id`s whose request got its 2xx answer to a live connection. */
  acknowledgedResponseIds(): Set<string>;
  /** Requests beyond the first for each X-Webhook-Id. */
  duplicates(): number;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 that answers 200 after `delayMs` and records, per request,
 * the delivery id (X-Webhook-Id), the response id of the body and whether the answer reached
 * a live connection (a sender killed mid-request never sees it).
 */
export async function startTrackingReceiver(delayMs = 0): Promise<TrackingReceiver> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let responseId: string | undefined;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { response?: { id?: string } };
        responseId = body.response?.id;
      } catch {
        responseId = undefined;
      }
      const hit: Hit = {
        webhookId: String(req.headers['x-webhook-id'] ?? ''),
        responseId,
        headers: req.headers,
        at: Date.now(),
        acknowledged: false,
      };
      hits.push(hit);
      const respond = () => {
        if (req.socket.destroyed) return;
        res.on('finish', () => {
          if (!req.socket.destroyed) hit.acknowledged = true;
        });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      };
      if (delayMs > 0) setTimeout(respond, delayMs).unref();
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const ids = (list: Hit[]) =>
    new Set(list.map((h) => h.responseId).filter((id): id is string => !!id));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    responseIds: () => ids(hits),
    acknowledgedResponseIds: () => ids(hits.filter((h) => h.acknowledged)),
    duplicates: () => hits.length - new Set(hits.map((h) => h.webhookId)).size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` every `everyMs` until it is true; answers the ms it took, or throws after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
) {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
