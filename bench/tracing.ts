/**
 * What tracing costs (DESIGN.md section 4c): submissions/s on ONE `formhub serve` process
 * (API, relay and worker together) with tracing off, and on, exporting every span (the
 * default sampler) over OTLP/HTTP protobuf to a local collector stand-in that accepts them.
 * Optionally the previous code too (`TRACING_BASELINE_REF`, a git commit: its files are
 * taken with `git archive` into a temporary directory and run with this checkout's
 * node_modules), so that "off" can be compared with the code before tracing existed.
 * Every phase is a fresh hub process on a fresh database, phases interleaved.
 *
 *   npm run bench:tracing
 *   TRACING_BASELINE_REF=<commit> npm run bench:tracing
 *
 * Environment: TRACING_CONCURRENCY (50), TRACING_REQUESTS (10000), TRACING_WARMUP (1000),
 * TRACING_ORDER (off,on,off,on; with a baseline base,off,on,base,off,on).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../test/support/database.ts';
import { freePort, startServer } from '../test/support/process.ts';
import { cpuOf, machineBusyPercent } from './support/cpu.ts';
import { createLoadClient, runLoad } from './support/load.ts';
import { OUT_OF_REACH_RATE_LIMITS } from './support/rate-limits.ts';
import { envInt, percentiles, printTable, round } from './support/stats.ts';
import { clearRedis, postJson } from './support/servers.ts';
import { BENCH_FORM, submissionBodies } from './support/workload.ts';

const CONCURRENCY = envInt('TRACING_CONCURRENCY', 50);
const REQUESTS = envInt('TRACING_REQUESTS', 10_000);
const WARMUP = envInt('TRACING_WARMUP', 1_000);
const BASELINE_REF = process.env.TRACING_BASELINE_REF ?? '';
const ORDER = (
  process.env.TRACING_ORDER ?? (BASELINE_REF ? 'base,off,on,base,off,on' : 'off,on,off,on')
).split(',') as Variant[];
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = `bench-admin-${randomBytes(12).toString('hex')}`;

type Variant = 'off' | 'on' | 'base';
const NAMES: Record<Variant, string> = {
  base: `previous code (${BASELINE_REF.slice(0, 10)})`,
  off: 'tracing off',
  on: 'tracing on (OTLP/HTTP protobuf, all sampled)',
};

interface Phase {
  variant: Variant;
  reqPerSec: number;
  errors: number;
  firstError: string | undefined;
  latency: ReturnType<typeof percentiles>;
  serverMsPerRequest: number;
  busyBefore: number;
}

/** A stand-in OTLP/HTTP collector: accepts every export, counts requests and bytes. */
async function startCollector() {
  const seen = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (seen.bytes += c.length));
    req.on('end', () => {
      seen.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { endpoint: `http://127.0.0.1:${port}`, seen, close: () => server.close() };
}

/** The baseline commit's files in a temporary directory, run with this checkout's node_modules. */
function checkOutBaseline(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'formhub-baseline-'));
  const archive = execFileSync('git', ['archive', ref], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function measure(
  variant: Variant,
  collector: string,
  baseline: string | undefined,
): Promise<Phase> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'formhub-bench-tracing-'));
  const prefix = `formhub-bench:${randomBytes(4).toString('hex')}:`;
  const port = await freePort();
  const env = {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    FORMHUB_ADMIN_KEY: ADMIN,
    FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...OUT_OF_REACH_RATE_LIMITS,
    LOG_LEVEL: 'warn',
    // Off in every run alike: the question is what a submission costs, not when to shed.
    LOAD_SHEDDING: 'false',
    OTEL_EXPORTER_OTLP_ENDPOINT: variant === 'on' ? collector : '',
  };
  const where = variant === 'base' ? { bin: join(baseline!, 'bin/formhub.js'), cwd: baseline } : {};
  const server = await startServer(['serve'], env, port, 120_000, where);
  try {
    const base = `http://127.0.0.1:${port}`;
    const ws = await postJson(`${base}/api/v2/workspaces`, ADMIN, { name: 'bench' });
    const form = await postJson(`${base}/api/v2/forms`, String(ws.api_key), BENCH_FORM);
    const client = createLoadClient(
      'http',
      `${base}/api/v2/forms/${form.id}/responses`,
      CONCURRENCY,
    );
    const bodies = submissionBodies(1_000);
    const load = { send: client.send, bodies, concurrency: CONCURRENCY, expectStatus: 201 };
    const warm = await runLoad({ ...load, requests: WARMUP });
    if (warm.errors > 0) throw new Error(`${variant}: warm-up errors, first: ${warm.firstError}`);
    const busyBefore = await machineBusyPercent();
    const cpuBefore = cpuOf(server.child.pid!);
    const run = await runLoad({ ...load, requests: REQUESTS });
    const serverMs = cpuOf(server.child.pid!) - cpuBefore;
    client.close();
    return {
      variant,
      reqPerSec: run.ok / (run.elapsedMs / 1000),
      errors: run.errors,
      firstError: run.firstError,
      latency: percentiles(run.latencies),
      serverMsPerRequest: round(serverMs / run.sent, 3),
      busyBefore,
    };
  } finally {
    await server.stop();
    await database.drop();
    await clearRedis(REDIS_URL, prefix);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(phases: Phase[], exported: { requests: number; bytes: number }): void {
  printTable(
    `Submissions to formhub serve: ${REQUESTS.toLocaleString('en-US')} requests after ${WARMUP} of warm-up, concurrency ${CONCURRENCY}`,
    ['run', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'server CPU ms/req', 'busy before'],
    phases.map((p) => [
      NAMES[p.variant],
      Math.round(p.reqPerSec).toLocaleString('en-US'),
      p.latency.p50.toFixed(1),
      p.latency.p95.toFixed(1),
      p.latency.p99.toFixed(1),
      p.errors,
      p.serverMsPerRequest.toFixed(3),
      `${p.busyBefore}%`,
    ]),
  );
  const of = (v: Variant) => phases.filter((p) => p.variant === v);
  const summary = (['base', 'off', 'on'] as const)
    .filter((v) => of(v).length > 0)
    .map((v) => ({
      variant: v,
      req_per_s: round(median(of(v).map((p) => p.reqPerSec)), 1),
      server_cpu_ms_per_request: round(median(of(v).map((p) => p.serverMsPerRequest)), 3),
    }));
  console.log('');
  for (const s of summary) {
    console.log(
      `median ${NAMES[s.variant]}: ${s.req_per_s} req/s, ${s.server_cpu_ms_per_request} server CPU ms/req`,
    );
  }
  const at = (v: Variant) => summary.find((s) => s.variant === v);
  const ratio = (a: Variant, b: Variant) =>
    at(a) && at(b) ? round(at(a)!.req_per_s / at(b)!.req_per_s, 3) : null;
  console.log(`ratio on / off (req/s): ${ratio('on', 'off')}`);
  if (BASELINE_REF) console.log(`ratio off / previous code (req/s): ${ratio('off', 'base')}`);
  console.log(`exported: ${exported.requests} OTLP requests, ${exported.bytes} bytes`);
  for (const p of phases)
    if (p.firstError) console.log(`${p.variant}: first error: ${p.firstError}`);
  console.log(
    JSON.stringify({
      bench: 'tracing',
      concurrency: CONCURRENCY,
      requests: REQUESTS,
      baseline_ref: BASELINE_REF || null,
      summary,
      phases: phases.map((p) => ({ ...p, latency: undefined, p95_ms: round(p.latency.p95) })),
    }),
  );
}

async function main(): Promise<void> {
  for (const v of ORDER) if (!(v in NAMES)) throw new Error(`TRACING_ORDER: unknown run "${v}"`);
  if (ORDER.includes('base') && !BASELINE_REF)
    throw new Error('TRACING_ORDER has base: set TRACING_BASELINE_REF to a commit');
  const collector = await startCollector();
  const baseline = BASELINE_REF ? checkOutBaseline(BASELINE_REF) : undefined;
  try {
    const phases: Phase[] = [];
    for (const variant of ORDER) {
      const phase = await measure(variant, collector.endpoint, baseline);
      console.log(`${NAMES[variant]}: ${Math.round(phase.reqPerSec)} req/s`);
      phases.push(phase);
    }
    report(phases, collector.seen);
  } finally {
    collector.close();
    if (baseline) rmSync(baseline, { recursive: true, force: true });
  }
}

await main();
