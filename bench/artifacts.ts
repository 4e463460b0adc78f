/**
 * Export files in PostgreSQL (src/artifacts, DESIGN.md section 4c, issue #17): how fast a
 * file goes into the store and comes out of the hub's download route, next to the same bytes
 * on a local disk served by a bare node:http server, in the same run.
 *
 * 1. ARTIFACT_MB of CSV-like text is generated once, in memory by 64 KiB blocks, and written
 *    (a) to a local file (fs write stream: the baseline) and (b) into the artifact store
 *    through `ArtifactStore.create` (512 KiB chunks, the hub's), each timed: write MB/s.
 * 2. An export job row points at the artifact; the hub (a full `buildApp` on a fresh
 *    database, listening on 127.0.0.1) serves `GET /api/v2/exports/:id/download`, and a bare
 *    node:http server on 127.0.0.1 in this process serves the local file with
 *    `createReadStream`. A node:http client downloads each ARTIFACT_ROUNDS times, alternating:
 *    download MB/s (body bytes / time to the last byte), bytes checked.
 * 3. Chunk sizes: for each of ARTIFACT_CHUNK_SIZES_KIB, ARTIFACT_CHUNK_MB written through the
 *    store and read back through its reader (no HTTP): write and read MB/s per chunk size.
 *
 *   npm run bench:artifacts
 *
 * Environment: ARTIFACT_MB (100), ARTIFACT_ROUNDS (3), ARTIFACT_CHUNK_SIZES_KIB
 * (256,512,1024), ARTIFACT_CHUNK_MB (50). PostgreSQL: a fresh database, dropped at the end;
 * Redis: TEST_REDIS_URL under a random prefix. The load average is printed at the start and
 * the end (other work on the machine shows there).
 */
import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ARTIFACT_CHUNK_SIZE, ArtifactStore } from '../src/artifacts/index.ts';
import { startHub } from '../test/support/hub.ts';
import { envInt, printTable, round } from './support/stats.ts';

const MB = 1024 * 1024;
const totalMb = envInt('ARTIFACT_MB', 100);
const rounds = envInt('ARTIFACT_ROUNDS', 3);
const chunkMb = envInt('ARTIFACT_CHUNK_MB', 50);
const chunkSizes = (process.env.ARTIFACT_CHUNK_SIZES_KIB ?? '256,512,1024')
  .split(',')
  .map((kib) => Number(kib) * 1024);

/** `mb` MiB of CSV-like lines, as 64 KiB blocks (the same bytes every time). */
function source(mb: number): Readable {
  const line = (i: number) =>
    `${String(i).padStart(8, '0')},2025-01-01T12:00:00Z,true,"a note of some length ${i % 97}",${i % 1000}\r\n`;
  const block = Buffer.from(Array.from({ length: 1200 }, (_, i) => line(i)).join('')).subarray(
    0,
    64 * 1024,
  );
  return Readable.from(
    (function* () {
      for (let i = 0; i < (mb * MB) / block.length; i++) yield block;
    })(),
  );
}

const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
const mbPerS = (bytes: number, ms: number) => round(bytes / MB / (ms / 1000), 1);

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Downloads `url`; answers the body's size and the time to its last byte. */
function download(
  url: string,
  headers: Record<string, string>,
): Promise<{ bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    get(url, { headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`${url}: ${res.statusCode}`));
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ bytes, ms: performance.now() - started }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const loadBefore = loadavg().map((l) => round(l, 2));
console.log(`load average at start: ${loadBefore.join(' ')} (2 cores)`);
const hub = await startHub();
const dir = mkdtempSync(join(tmpdir(), 'formhub-bench-artifacts-'));
let bare: Server | undefined;
try {
  const ws = await hub.workspace('bench');
  const total = totalMb * MB;
  const path = join(dir, 'export.csv');
  const fileWriteMs = await timed(() => pipeline(source(totalMb), createWriteStream(path)));
  const writer = await hub.services.artifacts.create({
    workspaceId: ws.id,
    kind: 'export',
    ttlMs: 3_600_000,
  });
  const storeWriteMs = await timed(() => pipeline(source(totalMb), writer));
  if (writer.stored?.size !== total) throw new Error('the artifact is not the size written');

  const form = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key: ws.key,
    payload: { title: 'Bench', fields: [{ key: 'n', type: 'integer' }] },
  });
  const jobId = '01900000-0000-7000-8000-0000000be4c4';
  await hub.db.query(
    `INSERT INTO export_jobs (id, workspace_id, form_id, format, status, progress, artifact_id, file_name, size,
       heartbeat_at, finished_at, expires_at)
     VALUES ($1, $2, $3, 'csv', 'succeeded', 100, $4, 'bench.csv', $5, now(), now(), now() + interval '1 hour')`,
    [jobId, ws.id, (form.json() as { id: string }).id, writer.id, total],
  );
  await hub.app.listen({ host: '127.0.0.1', port: 0 });
  const hubUrl = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}/api/v2/exports/${jobId}/download`;
  bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(total) });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => bare!.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/export.csv`;

  const hubRates: number[] = [];
  const fileRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const viaHub = await download(hubUrl, { authorization: `Bearer ${ws.key}` });
    const viaFile = await download(bareUrl, {});
    if (viaHub.bytes !== total || viaFile.bytes !== total) throw new Error('short download');
    hubRates.push(mbPerS(total, viaHub.ms));
    fileRates.push(mbPerS(total, viaFile.ms));
  }
  printTable(
    `${totalMb} MB export file (${ARTIFACT_CHUNK_SIZE / 1024} KiB chunks)`,
    ['path', 'write MB/s', 'download MB/s per round'],
    [
      ['PostgreSQL store, hub route', mbPerS(total, storeWriteMs), hubRates.join(' / ')],
      ['local file, bare node:http', mbPerS(total, fileWriteMs), fileRates.join(' / ')],
    ],
  );

  const bySize: { chunk_kib: number; write_mb_s: number; read_mb_s: number }[] = [];
  for (const chunkSize of chunkSizes) {
    const store = new ArtifactStore({ db: hub.db, chunkSize });
    const w = await store.create({ workspaceId: ws.id, kind: 'bench', ttlMs: 3_600_000 });
    const writeMs = await timed(() => pipeline(source(chunkMb), w));
    const opened = (await store.open(ws.id, w.id))!;
    const readMs = await timed(() => pipeline(opened.stream(), sink()));
    bySize.push({
      chunk_kib: chunkSize / 1024,
      write_mb_s: mbPerS(chunkMb * MB, writeMs),
      read_mb_s: mbPerS(chunkMb * MB, readMs),
    });
    await store.expire([w.id]);
    await store.sweep();
  }
  printTable(
    `${chunkMb} MB through the store, by chunk size (no HTTP)`,
    ['chunk KiB', 'write MB/s', 'read MB/s'],
    bySize.map((s) => [s.chunk_kib, s.write_mb_s, s.read_mb_s]),
  );
  const loadAfter = loadavg().map((l) => round(l, 2));
  console.log(`load average at the end: ${loadAfter.join(' ')}`);
  console.log(
    JSON.stringify({
      bench: 'artifacts',
      mb: totalMb,
      chunk_kib: ARTIFACT_CHUNK_SIZE / 1024,
      write_mb_s: { store: mbPerS(total, storeWriteMs), local_file: mbPerS(total, fileWriteMs) },
      download_mb_s: { hub_store: hubRates, bare_local_file: fileRates },
      chunk_sizes: bySize,
      load_average: { start: loadBefore, end: loadAfter },
    }),
  );
} finally {
  await new Promise<void>((resolve) => (bare ? bare.close(() => resolve()) : resolve()));
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
