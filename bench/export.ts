/**
 * Export benchmark (DESIGN.md section 5): an export of 100,000 responses as CSV and XLSX, its
 * rows/s and peak RSS (target: RSS growth under 100 MB whatever the row count), CSV next to
 * COPY ... TO STDOUT WITH CSV of the same rows.
 *
 * Starts a hub on a fresh PostgreSQL database, loads responses of the eight-field benchmark
 * form (through the import code path) up to each size of EXPORT_ROWS (a comma-separated list,
 * loaded incrementally), serves the export routes on a free 127.0.0.1 port and downloads
 * `GET /api/v2/forms/:id/export?format=csv|xlsx` over HTTP with fetch, discarding the bytes.
 * Memory is sampled every 20 ms; growth is the peak minus the value just before the download
 * (client and server share this process, so the figure covers both), for RSS, the V8 heap in
 * use and Buffers (`arrayBuffers`), each export starting from a fully collected heap (node
 * --expose-gc), and "retained" is what a full GC after the export cannot free.
 *
 * With EXPORT_XLSX_AB=1, once after every size, at the largest: the XLSX written straight from
 * `exportBody` to a discarding stream in the default XLSX pages and in 1,000-row pages (before
 * the fix), compared in the same run; then the HTTP exports again, because the 1,000-row run
 * changes V8's pretenuring for the rest of the process (docs/benchmarks/exports.md).
 *
 * Baselines: psql's `\copy (SELECT ...) TO '<file>' csv` (that is
 * `COPY ... TO STDOUT`, streamed to the psql client; pg-copy-streams is not installed) and,
 * when the role may write server files, a server-side `COPY (SELECT ...) TO '<file>'`.
 *
 *   EXPORT_ROWS=100000 npm run bench:export
 *   EXPORT_ROWS=100000,200000,500000 EXPORT_XLSX_AB=1 npm run bench:export
 *
 * Without EXPORT_ROWS it prints the export memory table instead (bench/support/export-memory.ts):
 * RSS growth of a `formhub api` child process for rows of 250 B, 40 KB and 1 MiB in every
 * format (EXPORT_MEMORY_CASES=bytes:rows,... to change the cases, EXPORT_CELL_TIMEOUT seconds
 * per export, default 180):
 *
 *   npm run bench:export
 */

import { hubRuntimeFlags } from './support/hub-runtime.ts'; // first: the hub's V8 flags
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { exportBody, exportRoutes, XLSX_PAGE_SIZE } from '../src/exports/index.ts';
import { FormService, type FormRow } from '../src/forms/index.ts';
import { createAuthHooks } from '../src/http/auth.ts';
import { registerErrorHandler } from '../src/http/error-handler.ts';
import { ErrorBody } from '../src/http/schemas.ts';
import { createValidatorCompiler } from '../src/http/validators.ts';
import { importResponses } from '../src/responses/index.ts';
import { WorkspaceService } from '../src/workspaces/index.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { envFlag, printTable, round } from './support/stats.ts';
import { BENCH_FORM, importRows } from './support/workload.ts';
import { memoryCases, memoryTable } from './support/export-memory.ts';

const SIZES = (process.env.EXPORT_ROWS || '100000').split(',').map((text) => {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`EXPORT_ROWS must list positive integers (got "${text}")`);
  return n;
});
const XLSX_AB = envFlag('EXPORT_XLSX_AB', false);
const TARGET_RSS_MB = 100;
const MB = 1024 * 1024;

interface Growth {
  rss: number;
  heap: number;
  buffers: number;
  /** Heap and Buffers still in use after the export and a full GC (garbage is not counted). */
  retained: number | null;
}

interface Result {
  name: string;
  ms: number;
  bytes: number;
  growth: Growth | null;
  note: string;
}

/** `global.gc` when node runs with --expose-gc (`npm run bench:export` does). */
const collect = (globalThis as { gc?: () => void }).gc;

/**
 * Samples memory every 20 ms from a fully collected heap (when `collect` is there: V8 then
 * sizes its heap from the live data, not from what the previous step, e.g. loading 300,000
 * rows, left behind); `stop()` answers the peak growth over the first sample, in MiB, and
 * what is still held after a full GC.
 */
function memorySampler(): { stop(): Growth } {
  collect?.();
  const at = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed, buffers: m.arrayBuffers };
  };
  const before = at();
  const peak = { ...before };
  const take = () => {
    const now = at();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heap = Math.max(peak.heap, now.heap);
    peak.buffers = Math.max(peak.buffers, now.buffers);
  };
  const timer = setInterval(take, 20);
  return {
    stop() {
      clearInterval(timer);
      take();
      collect?.();
      const after = at();
      return {
        rss: (peak.rss - before.rss) / MB,
        heap: (peak.heap - before.heap) / MB,
        buffers: (peak.buffers - before.buffers) / MB,
        retained: collect ? (after.heap + after.buffers - before.heap - before.buffers) / MB : null,
      };
    },
  };
}

async function exportServer(
  hub: TestHub,
  dataDir: string,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandler(app);
  app.addSchema(ErrorBody);
  const workspaces = new WorkspaceService(hub.db, hub.config.adminKey);
  const auth = createAuthHooks((key) => workspaces.authenticate(key));
  await app.register(exportRoutes, {
    prefix: '/api/v2',
    db: hub.db,
    forms: new FormService(hub.db),
    auth,
    dataDir,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as AddressInfo).port };
}

/** `count` import rows; `seedOffset` makes each increment's rows differ from the last's. */
async function* rowsToImport(count: number, now: number, seedOffset: number) {
  let index = 0;
  for (const row of importRows(count, now, 42 + seedOffset)) yield { index: index++, value: row };
}

/** Downloads one export over HTTP, counting bytes, sampling memory. */
async function httpExport(
  port: number,
  key: string,
  form: FormRow,
  format: 'csv' | 'xlsx',
): Promise<Result> {
  const memory = memorySampler();
  const started = performance.now();
  const res = await fetch(
    `http://127.0.0.1:${port}/api/v2/forms/${form.id}/export?format=${format}`,
    {
      headers: { authorization: `Bearer ${key}` },
    },
  );
  if (res.status !== 200)
    throw new Error(`${format} export answered ${res.status}: ${await res.text()}`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
  const ms = performance.now() - started;
  const note = `streamed, ${format === 'xlsx' ? XLSX_PAGE_SIZE : '1,000'}-row pages`;
  return {
    name: `formhub HTTP export, ${format.toUpperCase()}`,
    ms,
    bytes,
    growth: memory.stop(),
    note,
  };
}

/** The XLSX written by `exportBody` straight to a discarding stream, in pages of `pageSize` (default: the XLSX pages). */
async function directXlsx(
  hub: TestHub,
  workspaceId: string,
  form: FormRow,
  pageSize?: number,
): Promise<Result> {
  const memory = memorySampler();
  const started = performance.now();
  const request = { form, format: 'xlsx' as const, selection: { workspaceId, formId: form.id } };
  const body = await exportBody(hub.db.reader, request, pageSize ? { pageSize } : {});
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      setImmediate(done);
    },
  });
  await pipeline(body, sink);
  const ms = performance.now() - started;
  const pages = pageSize
    ? `${pageSize.toLocaleString('en-US')}-row pages`
    : `default pages (${XLSX_PAGE_SIZE})`;
  return {
    name: `exportBody XLSX, ${pages}`,
    ms,
    bytes,
    growth: memory.stop(),
    note: 'no HTTP, same run',
  };
}

/** The export's columns as plain SQL, newest first, for the COPY baselines. */
function baselineSelect(form: FormRow): string {
  const keys = form.fields.map((f) => `r.data->>'${f.key}'`).join(', ');
  return `SELECT r.id, r.submitted_at, r.completed, ${keys} FROM responses r
    WHERE r.form_id = '${form.id}' AND NOT r.deleted ORDER BY r.submitted_at DESC, r.id DESC`;
}

async function psqlCopyOut(url: string, form: FormRow, path: string): Promise<Result> {
  const command = `\\copy (${baselineSelect(form).replace(/\s+/g, ' ')}) TO '${path}' WITH (FORMAT csv, HEADER)`;
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command], {
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`psql \\copy exited with ${code}`);
  return {
    name: 'baseline: psql \\copy (COPY ... TO STDOUT) CSV',
    ms,
    bytes: statSync(path).size,
    growth: null,
    note: 'includes starting psql',
  };
}

async function serverCopyOut(
  admin: pg.Client,
  form: FormRow,
  path: string,
): Promise<Result | undefined> {
  const started = performance.now();
  try {
    await admin.query(`COPY (${baselineSelect(form)}) TO '${path}' WITH (FORMAT csv, HEADER)`);
  } catch (error) {
    console.log(`server-side COPY TO file not permitted: ${(error as Error).message}`);
    return undefined;
  }
  const ms = performance.now() - started;
  return {
    name: 'reference: server-side COPY ... TO file CSV',
    ms,
    bytes: statSync(path).size,
    growth: null,
    note: 'written by the server, no client',
  };
}

function report(rows: number, results: Result[]): void {
  const copy = results.find((r) => r.name.startsWith('baseline'));
  const rate = (r: Result) => rows / (r.ms / 1000);
  const mib = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1));
  printTable(
    `Export of ${rows.toLocaleString('en-US')} responses`,
    [
      'export',
      's',
      'rows/s',
      'x COPY',
      'MiB',
      'RSS growth MiB',
      'heap MiB',
      'Buffers MiB',
      'retained MiB',
      'note',
    ],
    results.map((r) => [
      r.name,
      round(r.ms / 1000, 2).toFixed(2),
      Math.round(rate(r)).toLocaleString('en-US'),
      copy ? (rate(r) / rate(copy)).toFixed(2) : '-',
      (r.bytes / MB).toFixed(1),
      mib(r.growth?.rss),
      mib(r.growth?.heap),
      mib(r.growth?.buffers),
      mib(r.growth?.retained ?? undefined),
      r.note,
    ]),
  );
  const measured = results.filter((r) => r.growth !== null && r.name.startsWith('formhub'));
  console.log(
    JSON.stringify({
      bench: 'export',
      rows,
      target_rss_growth_mb: TARGET_RSS_MB,
      target_met: measured.every((r) => r.growth!.rss < TARGET_RSS_MB),
      results: results.map((r) => ({
        name: r.name,
        seconds: round(r.ms / 1000, 3),
        rows_per_s: Math.round(rate(r)),
        bytes: r.bytes,
        rss_growth_mb: r.growth ? round(r.growth.rss, 1) : null,
        heap_growth_mb: r.growth ? round(r.growth.heap, 1) : null,
        buffers_growth_mb: r.growth ? round(r.growth.buffers, 1) : null,
        retained_mb: r.growth?.retained == null ? null : round(r.growth.retained, 1),
      })),
      csv_vs_copy: copy ? round(rate(results[0]!) / rate(copy), 3) : null,
    }),
  );
}

async function main(): Promise<void> {
  if (!collect)
    console.log(
      'no global.gc (run with node --expose-gc): growth includes garbage left by earlier steps',
    );
  console.log(`V8 flags as the hub: ${hubRuntimeFlags.join(' ') || 'none (BENCH_V8_DEFAULTS=1)'}`);
  const hub = await startHub({ LOG_LEVEL: 'silent' });
  const dataDir = join(tmpdir(), `formhub-bench-exports-${randomBytes(6).toString('hex')}`);
  const psqlPath = join(tmpdir(), `formhub-bench-export-${randomBytes(6).toString('hex')}.csv`);
  const serverPath = `/tmp/formhub-bench-export-server-${randomBytes(6).toString('hex')}.csv`;
  const admin = new pg.Client({ connectionString: hub.config.database.url });
  let server: FastifyInstance | undefined;
  try {
    await admin.connect();
    const ws = await hub.workspace('bench');
    const created = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: BENCH_FORM,
    });
    const form = await new FormService(hub.db).get(ws.id, (created.json() as { id: string }).id);
    const started = await exportServer(hub, dataDir);
    server = started.app;
    // Warm-up: load exceljs and JIT the paths on a small export, so memory growth is the export's own.
    for (const format of ['csv', 'xlsx'] as const) {
      await (
        await fetch(
          `http://127.0.0.1:${started.port}/api/v2/forms/${form.id}/export?format=${format}&fields=name&until=2000-01-01`,
          { headers: { authorization: `Bearer ${ws.key}` } },
        )
      ).arrayBuffer();
    }
    let loaded = 0;
    const now = Date.now();
    for (const rows of SIZES) {
      if (rows > loaded) {
        console.log(
          `loading ${(rows - loaded).toLocaleString('en-US')} more responses (to ${rows.toLocaleString('en-US')})...`,
        );
        await importResponses(hub.db, form, rowsToImport(rows - loaded, now, loaded));
        loaded = rows;
        await admin.query('VACUUM ANALYZE responses');
      }
      const results: Result[] = [];
      results.push(await httpExport(started.port, ws.key, form, 'csv'));
      results.push(await httpExport(started.port, ws.key, form, 'xlsx'));
      results.push(await psqlCopyOut(hub.config.database.url!, form, psqlPath));
      const serverCopy = await serverCopyOut(admin, form, serverPath);
      if (serverCopy) results.push(serverCopy);
      report(rows, results);
    }
    if (XLSX_AB) {
      // Last, once: a 1,000-row XLSX run makes V8 pretenure the row objects' allocation sites
      // for the rest of the process, after which every export's garbage goes to the old
      // generation (docs/benchmarks/exports.md); the HTTP exports are run again to show it.
      const rows = Math.max(...SIZES);
      const results: Result[] = [
        await directXlsx(hub, ws.id, form),
        await directXlsx(hub, ws.id, form, 1000),
      ];
      for (const format of ['csv', 'xlsx'] as const) {
        const again = await httpExport(started.port, ws.key, form, format);
        results.push({ ...again, name: `${again.name}, after the 1,000-row run` });
      }
      report(rows, results);
    }
  } finally {
    rmSync(psqlPath, { force: true });
    // The server's file belongs to the postgres user: empty it (this process may not delete it).
    await admin.query(`COPY (SELECT 1 WHERE false) TO '${serverPath}'`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await server?.close();
    await hub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.env.EXPORT_ROWS) {
  await main();
} else {
  const met = await memoryTable(
    memoryCases(),
    Number(process.env.EXPORT_CELL_TIMEOUT || 180) * 1000,
    TARGET_RSS_MB,
  );
  console.log(met ? 'target met' : 'target MISSED');
}
