/**
 * Export benchmark (issue 7: "Export of 100,000 responses as CSV and XLSX: rows/s and peak
 * RSS (target: RSS growth under 100 MB whatever the row count); CSV next to COPY ... TO
 * STDOUT WITH CSV of the same rows").
 *
 * Starts a hub on a fresh PostgreSQL database, loads EXPORT_ROWS responses of the
 * eight-field benchmark form (through the import code path), serves the export routes on a
 * free 127.0.0.1 port and downloads `GET /api/v2/forms/:id/export?format=csv|xlsx` over
 * HTTP with fetch, discarding the bytes. RSS is sampled every 20 ms; growth is the peak
 * minus the RSS just before the download (client and server share this process, so the
 * figure covers both). Baselines: psql's `\copy (SELECT ...) TO '<file>' csv` (that is
 * `COPY ... TO STDOUT`, streamed to the psql client; pg-copy-streams is not installed) and,
 * when the role may write server files, a server-side `COPY (SELECT ...) TO '<file>'`.
 *
 *   npm run bench:export                       (EXPORT_ROWS=100000)
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { exportRoutes } from '../src/exports/index.ts';
import { FormService, type FormRow } from '../src/forms/index.ts';
import { createAuthHooks } from '../src/http/auth.ts';
import { registerErrorHandler } from '../src/http/error-handler.ts';
import { ErrorBody } from '../src/http/schemas.ts';
import { createValidatorCompiler } from '../src/http/validators.ts';
import { importResponses } from '../src/responses/index.ts';
import { WorkspaceService } from '../src/workspaces/index.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { envInt, printTable, round } from './support/stats.ts';
import { BENCH_FORM, importRows } from './support/workload.ts';

const ROWS = envInt('EXPORT_ROWS', 100_000);
const TARGET_RSS_MB = 100;
const MB = 1024 * 1024;

interface Result {
  name: string;
  ms: number;
  bytes: number;
  rssGrowthMb: number | null;
  note: string;
}

async function exportServer(hub: TestHub, dataDir: string): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandler(app);
  app.addSchema(ErrorBody);
  const workspaces = new WorkspaceService(hub.db, hub.config.adminKey);
  const auth = createAuthHooks((key) => workspaces.authenticate(key));
  await app.register(exportRoutes, { prefix: '/api/v2', db: hub.db, forms: new FormService(hub.db), auth, dataDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as AddressInfo).port };
}

async function* rowsToImport(count: number, now: number) {
  let index = 0;
  for (const row of importRows(count, now)) yield { index: index++, value: row };
}

/** Downloads one export over HTTP, counting bytes, sampling RSS. */
async function httpExport(port: number, key: string, form: FormRow, format: 'csv' | 'xlsx'): Promise<Result> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/v2/forms/${form.id}/export?format=${format}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  if (res.status !== 200) throw new Error(`${format} export answered ${res.status}: ${await res.text()}`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { name: `formhub HTTP export, ${format.toUpperCase()}`, ms, bytes, rssGrowthMb: (peak - before) / MB, note: 'streamed, 1,000-row pages' };
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
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`psql \\copy exited with ${code}`);
  return { name: 'baseline: psql \\copy (COPY ... TO STDOUT) CSV', ms, bytes: statSync(path).size, rssGrowthMb: null, note: 'includes starting psql' };
}

async function serverCopyOut(admin: pg.Client, form: FormRow, path: string): Promise<Result | undefined> {
  const started = performance.now();
  try {
    await admin.query(`COPY (${baselineSelect(form)}) TO '${path}' WITH (FORMAT csv, HEADER)`);
  } catch (error) {
    console.log(`server-side COPY TO file not permitted: ${(error as Error).message}`);
    return undefined;
  }
  const ms = performance.now() - started;
  return { name: 'reference: server-side COPY ... TO file CSV', ms, bytes: statSync(path).size, rssGrowthMb: null, note: 'written by the server, no client' };
}

function report(results: Result[]): void {
  const copy = results.find((r) => r.name.startsWith('baseline'));
  const rate = (r: Result) => ROWS / (r.ms / 1000);
  printTable(
    `Export of ${ROWS.toLocaleString('en-US')} responses`,
    ['export', 's', 'rows/s', 'x COPY', 'MiB', 'RSS growth MiB', 'note'],
    results.map((r) => [
      r.name,
      round(r.ms / 1000, 2).toFixed(2),
      Math.round(rate(r)).toLocaleString('en-US'),
      copy ? (rate(r) / rate(copy)).toFixed(2) : '-',
      (r.bytes / MB).toFixed(1),
      r.rssGrowthMb === null ? '-' : r.rssGrowthMb.toFixed(1),
      r.note,
    ]),
  );
  const http = results.filter((r) => r.rssGrowthMb !== null);
  console.log(
    JSON.stringify({
      bench: 'export',
      rows: ROWS,
      target_rss_growth_mb: TARGET_RSS_MB,
      target_met: http.every((r) => r.rssGrowthMb! < TARGET_RSS_MB),
      results: results.map((r) => ({ name: r.name, seconds: round(r.ms / 1000, 3), rows_per_s: Math.round(rate(r)), bytes: r.bytes, rss_growth_mb: r.rssGrowthMb === null ? null : round(r.rssGrowthMb, 1) })),
      csv_vs_copy: copy ? round(rate(results[0]!) / rate(copy), 3) : null,
    }),
  );
}

async function main(): Promise<void> {
  const hub = await startHub({ LOG_LEVEL: 'silent' });
  const dataDir = join(tmpdir(), `formhub-bench-exports-${randomBytes(6).toString('hex')}`);
  const psqlPath = join(tmpdir(), `formhub-bench-export-${randomBytes(6).toString('hex')}.csv`);
  const serverPath = `/tmp/formhub-bench-export-server-${randomBytes(6).toString('hex')}.csv`;
  const admin = new pg.Client({ connectionString: hub.config.database.url });
  let server: FastifyInstance | undefined;
  try {
    await admin.connect();
    const ws = await hub.workspace('bench');
    const created = await hub.request({ method: 'POST', url: '/api/v2/forms', key: ws.key, payload: BENCH_FORM });
    const form = await new FormService(hub.db).get(ws.id, (created.json() as { id: string }).id);
    console.log(`loading ${ROWS.toLocaleString('en-US')} responses...`);
    await importResponses(hub.db, form, rowsToImport(ROWS, Date.now()));
    await admin.query('VACUUM ANALYZE responses');
    const started = await exportServer(hub, dataDir);
    server = started.app;
    // Warm-up: load exceljs and JIT the paths on a small export, so RSS growth is the export's own.
    for (const format of ['csv', 'xlsx'] as const) {
      await (await fetch(`http://127.0.0.1:${started.port}/api/v2/forms/${form.id}/export?format=${format}&fields=name&until=2000-01-01`, { headers: { authorization: `Bearer ${ws.key}` } })).arrayBuffer();
    }
    const results: Result[] = [];
    results.push(await httpExport(started.port, ws.key, form, 'csv'));
    results.push(await httpExport(started.port, ws.key, form, 'xlsx'));
    results.push(await psqlCopyOut(hub.config.database.url!, form, psqlPath));
    const serverCopy = await serverCopyOut(admin, form, serverPath);
    if (serverCopy) results.push(serverCopy);
    report(results);
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

await main();
