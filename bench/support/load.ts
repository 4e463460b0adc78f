/**
 * A closed-loop HTTP load generator: `concurrency` workers, each sending its next POST as
 * soon as the previous one is answered, until `requests` have been sent. Uses node's
 * fetch (undici inside), whose keep-alive pool opens one connection per busy worker.
 */

export interface LoadOptions {
  url: string;
  /** Request bodies (JSON), used in turn. */
  bodies: readonly string[];
  concurrency: number;
  requests: number;
  /** The status that counts as success. */
  expectStatus: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Stop sending new requests after this long, whatever is left. */
  maxDurationMs?: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
  /** Latency (ms) of every answered request, successes and failures alike. */
  latencies: Float64Array;
  /** CPU this (load generator) process used meanwhile, ms. */
  cpuMs: number;
}

/** Runs the load and measures each request from just before fetch to the end of its body. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { url, bodies, concurrency, requests, expectStatus } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const latencies = new Float64Array(requests);
  let next = 0;
  let done = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + (options.maxDurationMs ?? 600_000);
  const cpuBefore = process.cpuUsage();
  const worker = async () => {
    for (let i = next++; i < requests && performance.now() < deadline; i = next++) {
      const t0 = performance.now();
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[i % bodies.length]!,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status === expectStatus) ok++;
        else {
          errors++;
          firstError ??= `${res.status} ${text.slice(0, 300)}`;
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
    firstError,
    elapsedMs,
    latencies: latencies.subarray(0, done),
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
