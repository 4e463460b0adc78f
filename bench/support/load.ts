/**
 * A closed-loop HTTP load generator: `concurrency` workers, each sending its next POST as
 * soon as the previous one is answered, until `requests` have been sent, over keep-alive
 * connections (one per busy worker). Two clients: node's fetch (undici inside), and
 * node:http with a keep-alive Agent, which costs the load generator about a fifth of the
 * CPU per request: on a 2-core machine that CPU is taken from the server under test.
 */

import { Agent, request } from 'node:http';

export type LoadClient = 'fetch' | 'http';

export interface LoadOptions {
  /** Sends one POST (from createLoadClient; reuse it so that warm-up connections stay open). */
  send: Send;
  /** Request bodies (JSON), used in turn. */
  bodies: readonly string[];
  concurrency: number;
  requests: number;
  /** The status that counts as success. */
  expectStatus: number;
  /** Stop sending new requests after this long, whatever is left. */
  maxDurationMs?: number;
}

/** Sends one JSON body, resolving with the answer's status and body. */
export type Send = (body: string) => Promise<{ status: number; text: string }>;

export interface LoadClientHandle {
  send: Send;
  close(): void;
}

/** A client that POSTs JSON to `url` over keep-alive connections, each request timing out after `timeoutMs`. */
export function createLoadClient(
  kind: LoadClient,
  url: string,
  sockets: number,
  timeoutMs = 30_000,
): LoadClientHandle {
  return kind === 'http' ? httpClient(url, timeoutMs, sockets) : fetchClient(url, timeoutMs);
}

function fetchClient(url: string, timeoutMs: number): LoadClientHandle {
  const send: Send = async (body) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, text: await res.text() };
  };
  return { send, close: () => undefined };
}

function httpClient(url: string, timeoutMs: number, sockets: number): LoadClientHandle {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL(url);
  const send: Send = (body) =>
    new Promise((resolve, reject) => {
      const headers = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      };
      const req = request(target, { method: 'POST', agent, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  /** Answers 429 (rate limited), also counted in `errors`: a benchmark's limits must stay out of reach. */
  tooMany: number;
  firstError: string | undefined;
  elapsedMs: number;
  /** Latency (ms) of every answered request, successes and failures alike. */
  latencies: Float64Array;
  /** CPU this (load generator) process used meanwhile, ms. */
  cpuMs: number;
}

/** Runs the load and measures each request from just before sending to the end of its answer's body. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { send, bodies, concurrency, requests, expectStatus } = options;
  const latencies = new Float64Array(requests);
  let next = 0;
  let done = 0;
  let ok = 0;
  let errors = 0;
  let tooMany = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + (options.maxDurationMs ?? 600_000);
  const cpuBefore = process.cpuUsage();
  const worker = async () => {
    for (let i = next++; i < requests && performance.now() < deadline; i = next++) {
      const t0 = performance.now();
      try {
        const { status, text } = await send(bodies[i % bodies.length]!);
        if (status === expectStatus) ok++;
        else {
          errors++;
          if (status === 429) tooMany++;
          firstError ??= `${status} ${text.slice(0, 300)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= String((error as Error).cause ?? error);
      }
      latencies[done++] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    sent: done,
    ok,
    errors,
    tooMany,
    firstError,
    elapsedMs,
    latencies: latencies.subarray(0, done),
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
