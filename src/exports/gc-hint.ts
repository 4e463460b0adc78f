import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread } from 'node:worker_threads';

/**
 * Exported bytes (responses' `data` and `metadata` as PostgreSQL prints them) between two
 * major garbage collections asked for by exports, across every export of the thread. On an
 * export thread (export-thread-pool.ts) 4 MB: its live heap is a few tens of MB, so a full
 * GC there costs the thread tens of ms and the main thread nothing, and collecting sooner
 * keeps its heap, hence the process's RSS, smaller (the child hub of
 * test/security/export-memory.test.ts, 2,000 CSV rows of 40 KB, one run each: every 16 MB
 * with a 16 MB young generation, +97 MB; every 4 MB with an 8 MB one, +68 MB).
 */
export const EXPORT_GC_BYTES = (isMainThread ? 16 : 4) * 1024 * 1024;

/** V8's `gc([options])`: a full collection unless `{ type: 'minor' }` asks for a scavenge. */
type Collect = (options?: { type: 'minor' | 'major' }) => void;

let collect: Collect | null | undefined;
let sinceLast = 0;

/** V8's `gc()`, exposed once at run time (`--expose-gc` then a fresh context); null if that fails. */
function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as Collect;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * Runs one full (major, stop-the-world) GC now, as the counters below do. Its pause follows
 * the live heap, not the garbage: `npm run bench:gc` times it (docs/BENCHMARKS.md).
 */
export function forceFullGc(): void {
  collector()?.();
}

/**
 * Counts `bytes` read by an export and runs a full (major) GC after every `EXPORT_GC_BYTES`.
 * Why: an export's garbage (rows of up to 1 MiB as text, parsed, formatted) is collected by
 * V8 only when its heap limits say so; with the hub's 64 MB semi-spaces and 1 MiB strings in
 * the large-object space (freed by major GCs only) that let one export grow the process by
 * 100-170 MB (docs/BENCHMARKS.md, "Export memory"). Measured in the child hub of
 * test/security/export-memory.test.ts: every 32 MB, +76 to +93 MB; every 16 MB, +57 to +73 MB.
 * The price is a stop-the-world pause per collection, which grows with the live heap:
 * 0.16-0.24 s with 50 MB of live objects on a busy 2-core machine (`npm run bench:gc`), over
 * the 100 ms DESIGN.md section 3a allows. Without it (or with a pause budget that skips it)
 * the same exports grew the hub by 125-147 MB.
 *
 * Hence, on PostgreSQL, the hub runs exports on export threads (export-thread-pool.ts):
 * these GCs then stop only that thread's small heap, never the main thread's event loop
 * (test/security/export-loop.test.ts). Where an export still runs on the main thread (the
 * embedded database, scheduled reports in the worker process, code given a `Database`
 * directly), they stop it as described above.
 */
export function countExportedBytes(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < EXPORT_GC_BYTES) return;
  sinceLast = 0;
  forceFullGc();
}

/**
 * Milliseconds of PDF rendering (in the thread) between two full GCs asked for by renders; on
 * an export thread 250 ms, its small heap making each collection cheap.
 */
export const RENDER_GC_MS = isMainThread ? 1000 : 250;

let renderedSinceLast = 0;

/**
 * Counts `ms` spent rendering a PDF (one slice, src/reports/pdf/render-report.ts) and runs a
 * full GC after every `RENDER_GC_MS`. A PDF's garbage follows the rendering work, not the
 * rows' bytes: 20,000 responses of 250 B (5 MB of rows, never a byte-count GC) grew the hub
 * by 313 MB. One collection per second of rendering costs a few percent of it.
 */
export function countRenderTime(ms: number): void {
  renderedSinceLast += ms;
  if (renderedSinceLast < RENDER_GC_MS) return;
  renderedSinceLast = 0;
  forceFullGc();
}

/** Bytes of export output received by the main thread between two young-generation collections. */
export const RECEIVED_GC_BYTES = 16 * 1024 * 1024;

let receivedSinceLast = 0;

/**
 * Counts `bytes` of export output the main thread received from an export thread (each chunk
 * an ArrayBuffer of its own, outside the heap) and runs a young-generation collection (a
 * scavenge, not a full GC) after every `RECEIVED_GC_BYTES`. Why: a chunk's memory is freed
 * only when the small objects that hold it are collected, and the hub's 64 MB semi-spaces
 * fill so slowly with them that tens of MB of written chunks were still held. A scavenge's
 * pause follows the young objects that survive it (few: the chunks are written), not the
 * live heap, so it does not hold the event loop as a full GC does.
 */
export function countReceivedBytes(bytes: number): void {
  receivedSinceLast += bytes;
  if (receivedSinceLast < RECEIVED_GC_BYTES) return;
  receivedSinceLast = 0;
  forceYoungGc();
}

/** Runs one young-generation collection (a scavenge) now; `npm run bench:gc` times it too. */
export function forceYoungGc(): void {
  collector()?.({ type: 'minor' });
}
