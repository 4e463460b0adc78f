import type { Readable } from 'node:stream';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PgDatabase, PglitePortDatabase, type Database } from '../db/index.ts';
import type { FormRow } from '../forms/index.ts';
import { exportBody, type RenderPdf } from './export-body.ts';
import { parseExportRequest, type ExportParams } from './export-params.ts';
import {
  serializeAppError,
  type ExportThreadInit,
  type FromThread,
  type ToThread,
} from './export-thread-protocol.ts';

/**
 * An export thread (started by ExportThreadPool): it reads the export's pages from a
 * database connection of its own and formats them, so that the rows, the formatted text and
 * the full GCs that keep them small (gc-hint.ts) live in this thread's small heap, never in
 * the hub's. It answers each `pull` with one chunk; nothing is read ahead beyond the body's
 * own 64 KiB buffer, so a paused reader on the main thread stops the queries here.
 */

const port = parentPort;
if (!port) throw new Error('export-thread.ts runs as a worker thread');
const init = workerData as ExportThreadInit;
const send = (message: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

/**
 * On PostgreSQL, two connections shared by this thread's exports: one for the pages, one for
 * a PDF's summary queries while pages stream. On the embedded database, none: each export
 * brings its own port to the PGlite thread.
 */
const shared: Database | undefined = init.databaseUrl
  ? new PgDatabase({
      url: init.databaseUrl,
      poolMin: 0,
      poolMax: 2,
      queryTimeoutMs: init.queryTimeoutMs,
    })
  : undefined;

/** The database export `id` reads: the thread's pool, or its own port (closed when it ends). */
function databaseFor(port: MessagePort | undefined): Database {
  if (port) return new PglitePortDatabase(port, init.queryTimeoutMs);
  if (!shared) throw new Error('an export thread on the embedded database needs a port');
  return shared;
}

interface Running {
  controller: AbortController;
  db: Database;
  /** The body's chunks; undefined until the body is made. */
  chunks?: AsyncIterator<Buffer | string>;
  body?: Readable;
  /** Pulls that came before the body was made. */
  pulls: number;
}

const running = new Map<number, Running>();

/**
 * The reports module's renderer on `db`, its modules loaded on the first PDF only: its inner
 * file rather than its index, which would load the scheduler and the mailer too.
 */
async function pdfRenderer(db: Database): Promise<RenderPdf> {
  const [reports, workspaces] = await Promise.all([
    import('../reports/pdf-export.ts'),
    import('../workspaces/index.ts'),
  ]);
  return reports.createPdfRenderer(db.reader, new workspaces.WorkspaceService(db, undefined));
}

async function start(
  id: number,
  form: FormRow,
  params: ExportParams,
  port: MessagePort | undefined,
): Promise<void> {
  let db: Database;
  try {
    db = databaseFor(port);
  } catch (error) {
    return void send({ type: 'error', id, error: serializeAppError(error) });
  }
  const job: Running = { controller: new AbortController(), db, pulls: 0 };
  running.set(id, job);
  try {
    const request = parseExportRequest(form, params);
    const body = await exportBody(db, request, {
      renderPdf: init.pdf && request.format === 'pdf' ? await pdfRenderer(db) : undefined,
      queryTimeoutMs: init.queryTimeoutMs,
      signal: job.controller.signal,
      onPage: (rowsRead) => send({ type: 'progress', id, rowsRead }),
    });
    if (!running.has(id)) return void body.destroy(); // cancelled while it was being made
    job.body = body;
    job.chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
    send({ type: 'started', id });
    for (; job.pulls > 0; job.pulls--) await next(id, job);
  } catch (error) {
    fail(id, error);
  }
}

/** Sends export `id`'s next chunk, or its end. */
async function next(id: number, job: Running): Promise<void> {
  try {
    const step = await job.chunks!.next();
    if (!running.has(id)) return;
    if (step.done) {
      running.delete(id);
      done(job);
      send({ type: 'end', id });
      return;
    }
    const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : step.value;
    // A Buffer may be a view on a shared pool: copied into an ArrayBuffer of its own to transfer.
    const bytes = new ArrayBuffer(chunk.byteLength);
    new Uint8Array(bytes).set(chunk);
    send({ type: 'chunk', id, bytes }, [bytes]);
  } catch (error) {
    fail(id, error);
  }
}

function fail(id: number, error: unknown): void {
  const job = running.get(id);
  if (!job) return; // cancelled: the main side no longer listens
  running.delete(id);
  job.body?.destroy();
  done(job);
  send({ type: 'error', id, error: serializeAppError(error) });
}

/** The export is over: a port of its own is closed (a transaction it left open rolls back). */
function done(job: Running): void {
  if (job.db !== shared) void job.db.close();
}

function cancel(id: number): void {
  const job = running.get(id);
  if (!job) return;
  running.delete(id);
  job.controller.abort(new Error('the export was cancelled'));
  job.body?.destroy();
  done(job);
}

port.on('message', (message: ToThread) => {
  if (message.type === 'start') void start(message.id, message.form, message.params, message.port);
  else if (message.type === 'cancel') cancel(message.id);
  else {
    const job = running.get(message.id);
    if (!job) return;
    if (job.chunks) void next(message.id, job);
    else job.pulls++;
  }
});

send({ type: 'ready' });
