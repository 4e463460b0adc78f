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

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FormService } from '../src/forms/index.ts';
import { startHub, type TestHub } from '../test/support/hub.ts';
import { writeCopyCsv } from './support/copy-file.ts';
import { machineBusyPercent } from './support/cpu.ts';
import { jsonArrayChunks, ndjsonChunks, postStream } from './support/import-body.ts';
import {
  emptyTable,
  expectRows,
  startClock,
  stopClock,
  type Context,
  type Measurement,
} from './support/import-context.ts';
import { psqlAvailable, psqlCopy, serverCopy, unnestAll } from './support/import-loads.ts';
import { profile } from './support/import-profile.ts';
import { envFlag, envInt, printTable, round } from './support/stats.ts';
import { BENCH_FORM, importRows } from './support/workload.ts';

const ROWS = envInt('IMPORT_ROWS', 100_000);
const PROFILE = envFlag('IMPORT_PROFILE', true);
const TARGET_SECONDS = 10;

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
      rows: ROWS,
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
