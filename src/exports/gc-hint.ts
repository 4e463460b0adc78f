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
 * Counts `bytes` read by an export and runs a full (major) GC after every `EXPORT_GC_BYTES`.
 * Why: an export's garbage (rows of up to 1 MiB as text, parsed, formatted) is collected by
 * V8 only when its heap limits say so; with the hub's 64 MB semi-spaces and 1 MiB strings in
 * the large-object space (freed by major GCs only) that let one export grow the process by
 * 100-170 MB (docs/BENCHMARKS.md, "Export memory"). Measured in the child hub of
 * test/security/export-memory.test.ts: every 32 MB, +76 to +93 MB; every 16 MB, +57 to +73 MB.
 * A forced GC costs a few milliseconds on a hub's small heap, a fraction of the time 16 MB
 * take to export; a hub with a large live heap pays more per collection.
 */
export function countExportedBytes(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < EXPORT_GC_BYTES) return;
  sinceLast = 0;
  collector()?.();
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
  collector()?.();
}
