import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Exported bytes (responses' `data` and `metadata` as PostgreSQL prints them) between two
 * major garbage collections asked for by exports, across every export of the process.
 */
export const EXPORT_GC_BYTES = 16 * 1024 * 1024;

let collect: (() => void) | null | undefined;
let sinceLast = 0;

/** V8's `gc()`, exposed once at run time (`--expose-gc` then a fresh context); null if that fails. */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
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
 * the same exports grew the hub by 125-147 MB. Moving export formatting to a worker thread
 * with a small heap of its own is the fix that keeps both bounds (docs/security.md).
 */
export function countExportedBytes(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < EXPORT_GC_BYTES) return;
  sinceLast = 0;
  forceFullGc();
}

/** Milliseconds of PDF rendering (in the process) between two full GCs asked for by renders. */
export const RENDER_GC_MS = 1000;

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
