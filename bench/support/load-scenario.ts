/**
 * A Locust-like scenario: `users` virtual users, started evenly over `rampMs`, each in a
 * loop until the deadline: load a form's schema (with If-None-Match half of the time once
 * it holds an ETag, as a browser would), think, submit a response, think, and with
 * probability `readShare` read the form's metrics or a listing with the workspace key,
 * then think again. Forms are picked with a Zipf-skewed popularity. Each user draws from a
 * PRNG of its own, seeded from `seed` and its number, so every run makes the same choices
 * per user (only the interleaving of users depends on timing).
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';
import { seededRandom } from './workload.ts';

export type RequestKind = 'schema' | 'submit' | 'metrics' | 'listing';
export const REQUEST_KINDS: readonly RequestKind[] = ['schema', 'submit', 'metrics', 'listing'];

export interface ScenarioOptions {
  base: string;
  key: string;
  formIds: readonly string[];
  bodies: readonly string[];
  users: number;
  durationMs: number;
  rampMs: number;
  thinkMinMs: number;
  thinkMaxMs: number;
  /** Share of iterations that also read metrics or a listing (half each). */
  readShare: number;
  /** Share of schema loads that send If-None-Match when the user holds an ETag. */
  conditionalShare: number;
  /** Zipf exponent of form popularity (1 = the top form gets 1/H(n) of the loads). */
  zipf: number;
  seed: number;
  /** Most keep-alive connections the client opens (it opens them as needed). */
  connections: number;
  timeoutMs: number;
}

export interface KindResult {
  /** Latency (ms) of every answered request: from sending to the end of the body. */
  latencies: number[];
  /** Answers by status code (`"200"`, `"304"`) or network error code. */
  statuses: Map<string, number>;
  errors: number;
}

export interface ScenarioResult {
  kinds: Map<RequestKind, KindResult>;
  elapsedMs: number;
  peakInFlight: number;
  /** The load generator's own event-loop delay: high values mean it, not the hub, added latency. */
  loopDelayMs: { p50: number; p99: number; max: number };
}

const EXPECTED: Record<RequestKind, readonly number[]> = {
  schema: [200, 304],
  submit: [201],
  metrics: [200],
  listing: [200],
};

/** A sampler of indexes 0..n-1 with P(i) proportional to 1/(i+1)^s, given a uniform draw. */
function zipfSampler(n: number, s: number): (u: number) => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  const cdf = weights.map((w) => (sum += w / total));
  return (u) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Runs the scenario until `durationMs` has passed; requests in flight then are awaited and counted. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const pool = new Pool(options.base, {
    connections: options.connections,
    keepAliveTimeout: 60_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const pickForm = zipfSampler(options.formIds.length, options.zipf);
  const kinds = new Map<RequestKind, KindResult>(
    REQUEST_KINDS.map((kind) => [kind, { latencies: [], statuses: new Map(), errors: 0 }]),
  );
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const start = performance.now();
  const deadline = start + options.durationMs;
  let inFlight = 0;
  let peakInFlight = 0;
  let bodyIndex = 0;

  const record = (kind: RequestKind, status: string, ms: number) => {
    const result = kinds.get(kind)!;
    result.latencies.push(ms);
    result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
    if (!EXPECTED[kind].includes(Number(status))) result.errors++;
  };

  const send = async (
    kind: RequestKind,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Record<string, string | string[] | undefined> | undefined> => {
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const t0 = performance.now();
    try {
      const res = await pool.request({ method, path, headers, body });
      await res.body.dump({ limit: 1 << 24 });
      record(kind, String(res.statusCode), performance.now() - t0);
      return res.headers;
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      record(kind, `error:${code}`, performance.now() - t0);
      return undefined;
    } finally {
      inFlight--;
    }
  };

  const user = async (index: number) => {
    const random = seededRandom(options.seed * 100_003 + index);
    /** Sleeps a think time; false once the run's deadline has passed. */
    const think = async (): Promise<boolean> => {
      const ms = options.thinkMinMs + random() * (options.thinkMaxMs - options.thinkMinMs);
      const left = deadline - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, left))));
      return performance.now() < deadline;
    };
    const etags = new Map<string, string>();
    await new Promise((resolve) => setTimeout(resolve, (index / options.users) * options.rampMs));
    if (!(await think())) return;
    for (;;) {
      const formId = options.formIds[pickForm(random())]!;
      const etag = etags.get(formId);
      const conditional = etag !== undefined && random() < options.conditionalShare;
      const schemaHeaders = await send(
        'schema',
        'GET',
        `/api/v2/forms/${formId}/schema`,
        conditional ? { 'if-none-match': etag } : {},
      );
      const newTag = schemaHeaders?.etag;
      if (typeof newTag === 'string') etags.set(formId, newTag);
      if (!(await think())) return;
      const body = options.bodies[bodyIndex++ % options.bodies.length]!;
      await send(
        'submit',
        'POST',
        `/api/v2/forms/${formId}/responses`,
        { 'content-type': 'application/json' },
        body,
      );
      if (!(await think())) return;
      if (random() < options.readShare) {
        const auth = { authorization: `Bearer ${options.key}` };
        if (random() < 0.5)
          await send('metrics', 'GET', `/api/v2/analytics/forms/${formId}/metrics`, auth);
        else await send('listing', 'GET', `/api/v2/forms/${formId}/responses?limit=20`, auth);
        if (!(await think())) return;
      }
    }
  };

  await Promise.all(Array.from({ length: options.users }, (_, i) => user(i)));
  const elapsedMs = performance.now() - start;
  loop.disable();
  await pool.close();
  const ms = (ns: number) => ns / 1e6;
  return {
    kinds,
    elapsedMs,
    peakInFlight,
    loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
  };
}
