/**
 * Bulk import benchmark (DESIGN.md section 5: "Import of 100,000 responses < 10 s").
 *
 * Starts the hub in this process on a free 127.0.0.1 port, on a fresh PostgreSQL database
 * and a random Redis prefix, and imports IMPORT_ROWS rows of an eight-field form through
 * the real endpoint, as NDJSON and as a JSON array, each body streamed from a generator.
 * The baseline is PostgreSQL alone loading the same rows into the same (emptied) table:
 * a server-side `COPY responses (...) FROM '<file>'` (pg-copy-streams is not installed, so
 * COPY FROM STDIN is not reachable through `pg`), plus two references: psql's `\copy`
 * (which is COPY FROM STDIN) and one `INSERT ... SELECT FROM unnest(...)` of all rows.
 * With IMPORT_PROFILE (default on) it then times the import's parts one by one.
 *
 *   node --import tsx bench/import.ts            (IMPORT_ROWS=100000 IMPORT_PROFILE=1)
 */

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FormService, type FormRow } from '../src/forms/index.ts';
import { importResponses } from '../src/responses/index.ts';
import { readImportRows } from '../src/responses/import-reader.ts';
import { insertImportBatch } from '../src/responses/queries.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { columnArrays, COPY_COLUMNS, writeCopyCsv } from './support/copy-file.ts';
import { jsonArrayChunks, ndjsonChunks, postStream } from './support/import-body.ts';
import { cpuSince, cpuSnapshot, machineBusyPercent, machineCpuMs } from './support/cpu.ts';
import { NullDatabase } from './support/null-database.ts';
import { envFlag, envInt, printTable, round, since } from './support/stats.ts';
import { BENCH_FORM, importRows } from './support/workload.ts';

const ROWS = envInt('IMPORT_ROWS', 100_000);
const PROFILE = envFlag('IMPORT_PROFILE', true);
const TARGET_SECONDS = 10;

interface Measurement {
  name: string;
  ms: number;
  note: string;
  /** CPU used meanwhile by everything but this process and this database's backends, % of one core. */
  rest?: number;
}

/** CPU readings at the start of a measurement, to tell how much of the machine others took. */
interface Clock {
  at: number;
  machineBusy: number;
  self: number;
  backends: Map<number, number>;
}

async function databaseBackends(ctx: Context): Promise<number[]> {
  const { rows } = await ctx.admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return rows.map((r) => r.pid);
}

function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function startClock(ctx: Context): Promise<Clock> {
  const backends = cpuSnapshot(await databaseBackends(ctx));
  return { at: performance.now(), machineBusy: machineCpuMs().busy, self: selfCpuMs(), backends };
}

/** Wall time since `clock`, and the CPU others used meanwhile; backends opened meanwhile count from 0. */
async function stopClock(ctx: Context, clock: Clock): Promise<{ ms: number; rest: number }> {
  const ms = since(clock.at);
  const machine = machineCpuMs().busy - clock.machineBusy;
  const self = selfCpuMs() - clock.self;
  const postgres = cpuSince(clock.backends, await databaseBackends(ctx));
  return { ms, rest: Math.max(0, Math.round((100 * (machine - self - postgres)) / ms)) };
}

interface Context {
  hub: TestHub;
  admin: pg.Client;
  url: string;
  port: number;
  key: string;
  form: FormRow;
  now: number;
  csvPath: string;
}

/** Empties the responses table and flushes dirty pages, so every load starts alike. */
async function emptyTable(ctx: Context): Promise<void> {
  await ctx.admin.query('TRUNCATE responses');
  await ctx.admin.query('CHECKPOINT');
}

async function countRows(ctx: Context): Promise<number> {
  const { rows } = await ctx.admin.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM responses WHERE form_id = $1',
    [ctx.form.id],
  );
  return rows[0]?.n ?? 0;
}

async function expectRows(ctx: Context, what: string): Promise<void> {
  const n = await countRows(ctx);
  if (n !== ROWS) throw new Error(`${what}: expected ${ROWS} rows in responses, found ${n}`);
}

async function httpImport(ctx: Context, format: 'ndjson' | 'json'): Promise<Measurement> {
  await emptyTable(ctx);
  const rows = importRows(ROWS, ctx.now);
  const chunks = format === 'ndjson' ? ndjsonChunks(rows) : jsonArrayChunks(rows);
  const contentType = format === 'ndjson' ? 'application/x-ndjson' : 'application/json';
  const url = new URL(`http://127.0.0.1:${ctx.port}/api/v2/forms/${ctx.form.id}/responses/import`);
  const clock = await startClock(ctx);
  const res = await postStream(
    url,
    { authorization: `Bearer ${ctx.key}`, 'content-type': contentType },
    chunks,
  );
  const { ms, rest } = await stopClock(ctx, clock);
  const imported =
    res.status === 201 ? (JSON.parse(res.body) as { imported: number }).imported : -1;
  if (imported !== ROWS)
    throw new Error(`${format} import answered ${res.status}: ${res.body.slice(0, 500)}`);
  await expectRows(ctx, `${format} import`);
  const mb = res.sent / 1024 / 1024;
  const name = `formhub HTTP import, ${format === 'ndjson' ? 'NDJSON' : 'JSON array'}`;
  return { name, ms, rest, note: `${mb.toFixed(1)} MiB body, streamed` };
}

async function serverCopy(ctx: Context): Promise<Measurement> {
  await emptyTable(ctx);
  const clock = await startClock(ctx);
  await ctx.admin.query(`COPY responses (${COPY_COLUMNS}) FROM '${ctx.csvPath}' WITH (FORMAT csv)`);
  const { ms, rest } = await stopClock(ctx, clock);
  await expectRows(ctx, 'COPY');
  return {
    name: 'baseline: COPY responses FROM file (server-side)',
    ms,
    rest,
    note: 'CSV in /tmp, read by the server',
  };
}

function psqlAvailable(): boolean {
  return spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function psqlCopy(ctx: Context): Promise<Measurement> {
  await emptyTable(ctx);
  const command = `\\copy responses (${COPY_COLUMNS}) FROM '${ctx.csvPath}' WITH (FORMAT csv)`;
  const clock = await startClock(ctx);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', ctx.url, '-c', command],
      { stdio: 'inherit' },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const { ms, rest } = await stopClock(ctx, clock);
  if (code !== 0) throw new Error(`psql \\copy exited with ${code}`);
  await expectRows(ctx, 'psql \\copy');
  const note = 'includes starting psql; its backend counts in others';
  return { name: 'reference: psql \\copy (COPY FROM STDIN)', ms, rest, note };
}

async function unnestAll(ctx: Context): Promise<Measurement> {
  await emptyTable(ctx);
  const arrays = columnArrays(importRows(ROWS, ctx.now));
  const clock = await startClock(ctx);
  await ctx.hub.db.transaction((tx) =>
    insertImportBatch(tx, ctx.form.workspace_id, ctx.form.id, ctx.form.version, arrays),
  );
  const { ms, rest } = await stopClock(ctx, clock);
  await expectRows(ctx, 'unnest');
  return {
    name: 'reference: one INSERT ... SELECT FROM unnest (all rows)',
    ms,
    rest,
    note: 'arrays built before timing',
  };
}

async function* fromChunks(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

/** Runs `fn` and answers how long it took and the CPU others used meanwhile. */
async function timed(
  ctx: Context,
  fn: () => Promise<unknown>,
): Promise<{ ms: number; rest: number }> {
  const clock = await startClock(ctx);
  await fn();
  return stopClock(ctx, clock);
}

/** Replays the import's own batch statements (captured by NullDatabase) in one transaction. */
async function replayBatches(ctx: Context, sink: NullDatabase) {
  await emptyTable(ctx);
  const result = await timed(ctx, () =>
    ctx.hub.db.transaction(async (tx) => {
      for (const params of sink.statements) await tx.query(sink.sql, params);
    }),
  );
  await expectRows(ctx, 'batch replay');
  return result;
}

/** The import's parts, each timed alone (the endpoint runs them one after another). */
async function profile(ctx: Context): Promise<Measurement[]> {
  const out: Measurement[] = [];
  let chunks: Buffer[] = [];
  const generate = await timed(
    ctx,
    async () => void (chunks = [...ndjsonChunks(importRows(ROWS, ctx.now))]),
  );
  out.push({
    name: 'client: generate the NDJSON body',
    ...generate,
    note: 'same process as the hub',
  });

  const parse = await timed(ctx, async () => {
    for await (const row of readImportRows(fromChunks(chunks), 'ndjson')) if (row.index < 0) break;
  });
  out.push({ name: 'hub: decode + split + JSON.parse rows', ...parse, note: 'readImportRows' });

  const sink = new NullDatabase();
  const pipeline = await timed(ctx, () =>
    importResponses(sink, ctx.form, readImportRows(fromChunks(chunks), 'ndjson')),
  );
  out.push({
    name: 'hub: parse + validate + serialise (no DB)',
    ...pipeline,
    note: 'importResponses on a null DB',
  });

  const ginOn = await replayBatches(ctx, sink);
  out.push({
    name: "db: the import's unnest batches, GIN on",
    ...ginOn,
    note: `${sink.statements.length} statements, 1 tx`,
  });

  const { rows } = await ctx.admin.query<{ indexdef: string }>(
    "SELECT indexdef FROM pg_indexes WHERE tablename = 'responses' AND indexname = 'responses_data_idx'",
  );
  const indexdef = rows[0]?.indexdef;
  if (!indexdef) throw new Error('responses_data_idx not found');
  await ctx.admin.query('DROP INDEX responses_data_idx');
  try {
    const ginOff = await replayBatches(ctx, sink);
    out.push({
      name: 'db: the same batches, GIN index dropped',
      ...ginOff,
      note: 'responses_data_idx dropped',
    });
    await emptyTable(ctx);
    const copy = await timed(ctx, () =>
      ctx.admin.query(`COPY responses (${COPY_COLUMNS}) FROM '${ctx.csvPath}' WITH (FORMAT csv)`),
    );
    out.push({ name: 'db: server-side COPY, GIN index dropped', ...copy, note: 'for scale' });
  } finally {
    await ctx.admin.query('TRUNCATE responses');
    await ctx.admin.query(indexdef);
  }
  return out;
}

function rate(ms: number): number {
  return ROWS / (ms / 1000);
}

function report(main: Measurement[], parts: Measurement[], busyBefore: number): void {
  const copy = main.find((m) => m.name.startsWith('baseline'));
  const row = (m: Measurement) => [
    m.name,
    round(m.ms / 1000, 2).toFixed(2),
    Math.round(rate(m.ms)).toLocaleString('en-US'),
    copy ? (rate(m.ms) / rate(copy.ms)).toFixed(2) : '-',
    m.rest === undefined ? '-' : `${m.rest}%`,
    m.note,
  ];
  printTable(
    `Import of ${ROWS.toLocaleString('en-US')} responses`,
    ['load', 's', 'rows/s', 'x COPY', 'others', 'note'],
    main.map(row),
  );
  if (parts.length > 0) {
    printTable(
      'Where an import spends its time (each part timed alone)',
      ['part', 's', 'rows/s', 'x COPY', 'others', 'note'],
      parts.map(row),
    );
  }
  const ndjson = main[0];
  console.log(
    `\nothers: CPU used meanwhile by other processes than this one and this database's backends, ` +
      `in % of one core (2 cores = 200%). Machine busy just before the runs: ${busyBefore}%.`,
  );
  console.log(
    JSON.stringify({
      bench: 'import',
      rows: ROWS,
      target_seconds: TARGET_SECONDS,
      target_met: ndjson ? ndjson.ms / 1000 < TARGET_SECONDS : false,
      results: main.map((m) => ({
        name: m.name,
        seconds: round(m.ms / 1000, 3),
        rows_per_s: Math.round(rate(m.ms)),
        others_cpu_percent: m.rest,
      })),
      ratio_ndjson_vs_copy: ndjson && copy ? round(rate(ndjson.ms) / rate(copy.ms), 3) : null,
      profile: parts.map((m) => ({
        name: m.name,
        seconds: round(m.ms / 1000, 3),
        others_cpu_percent: m.rest,
      })),
      machine_busy_before_percent: busyBefore,
    }),
  );
}

async function createForm(hub: TestHub, key: string): Promise<string> {
  const res = await hub.request({ method: 'POST', url: '/api/v2/forms', key, payload: BENCH_FORM });
  if (res.statusCode !== 201) throw new Error(`creating the form: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

async function main(): Promise<void> {
  const hub = await startHub({ LOG_LEVEL: 'silent' });
  const admin = new pg.Client({ connectionString: hub.config.database.url });
  const csvPath = join(tmpdir(), `formhub-bench-${randomBytes(6).toString('hex')}.csv`);
  const cleanup = async () => {
    rmSync(csvPath, { force: true });
    await admin.end().catch(() => undefined);
    await hub.close();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    await admin.connect();
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (hub.app.server.address() as AddressInfo).port;
    const ws = await hub.workspace('bench');
    const formId = await createForm(hub, ws.key);
    const form = await new FormService(hub.db).get(ws.id, formId);
    const now = Date.now();
    const ctx: Context = {
      hub,
      admin,
      url: hub.config.database.url!,
      port,
      key: ws.key,
      form,
      now,
      csvPath,
    };
    await writeCopyCsv(csvPath, importRows(ROWS, now), form.workspace_id, form.id, form.version);

    const busyBefore = await machineBusyPercent();
    const main: Measurement[] = [];
    main.push(await httpImport(ctx, 'ndjson'));
    main.push(await httpImport(ctx, 'json'));
    main.push(await serverCopy(ctx));
    if (psqlAvailable()) main.push(await psqlCopy(ctx));
    main.push(await unnestAll(ctx));
    const parts = PROFILE ? await profile(ctx) : [];
    report(main, parts, busyBefore);
  } finally {
    await cleanup();
  }
}

await main();
