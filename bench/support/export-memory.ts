/**
 * The export memory table (DESIGN.md section 5: "an export or report of any size, rows of any
 * size up to the 1 MiB limit, grows the process by < 100 MB"): for each row size and format,
 * a fresh `formhub api` child process (the hub's own V8 flags and code) on one database,
 * one warm-up export of that format (loads exceljs, pdfkit, fonts), then the real export
 * downloaded over HTTP while the child's RSS is sampled from /proc every 25 ms. Growth is the
 * peak minus the RSS just before the download.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../../test/support/database.ts';
import {
  createNoteForm,
  download,
  insertNotes,
  sampleRss,
  startExportHub,
} from '../../test/security/export-hub.ts';
import { printTable, round } from './stats.ts';

const MB = 1024 * 1024;
export const MEMORY_FORMATS = ['csv', 'xlsx', 'json', 'ndjson', 'pdf'] as const;
type Format = (typeof MEMORY_FORMATS)[number];

/** EXPORT_MEMORY_FORMATS (default: all five), e.g. `csv,pdf` for the smoke run: each format costs a fresh hub. */
export function memoryFormats(
  text = process.env.EXPORT_MEMORY_FORMATS || MEMORY_FORMATS.join(','),
): Format[] {
  return text.split(',').map((name) => {
    const format = MEMORY_FORMATS.find((f) => f === name.trim());
    if (!format)
      throw new Error(
        `EXPORT_MEMORY_FORMATS must list ${MEMORY_FORMATS.join(', ')} (got "${name}")`,
      );
    return format;
  });
}

export interface MemoryCase {
  label: string;
  bytes: number;
  rows: number;
}

/** `EXPORT_MEMORY_CASES`: `bytes:rows` pairs, e.g. `250:20000,40960:2000,1048576:100`. */
export function memoryCases(
  text = process.env.EXPORT_MEMORY_CASES || '250:20000,40960:2000,1048576:100',
): MemoryCase[] {
  return text.split(',').map((pair) => {
    const [bytes, rows] = pair.split(':').map(Number);
    if (!Number.isInteger(bytes) || !Number.isInteger(rows) || bytes! <= 0 || rows! <= 0) {
      throw new Error(`EXPORT_MEMORY_CASES must list bytes:rows pairs (got "${pair}")`);
    }
    const label =
      bytes! >= MB
        ? `${bytes! / MB} MiB`
        : bytes! >= 1024
          ? `${Math.round(bytes! / 1024)} KB`
          : `${bytes} B`;
    return { label, bytes: bytes!, rows: rows! };
  });
}

interface Cell {
  format: Format;
  outcome: string;
  seconds: number;
  mib: number;
  growth: number;
}

/** Runs every case and format; prints the table and one JSON line; answers whether every cell met the target. */
export async function memoryTable(
  cases: MemoryCase[],
  timeoutMs: number,
  targetMb: number,
): Promise<boolean> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'formhub-bench-memory-'));
  const results: { case: MemoryCase; cells: Cell[] }[] = [];
  try {
    // A first hub migrates the database and makes the workspace and the forms.
    const setup = await startExportHub(database.url, dataDir);
    const forms: string[] = [];
    try {
      for (const c of cases) {
        const formId = await createNoteForm(setup, `Notes ${c.label}`);
        console.log(`loading ${c.rows} responses of ${c.label}...`);
        await insertNotes(database.url, setup.workspaceId, formId, c.rows, c.bytes);
        forms.push(formId);
      }
    } finally {
      await setup.stop();
    }
    for (const [i, c] of cases.entries()) {
      const cells: Cell[] = [];
      for (const format of memoryFormats()) {
        cells.push(
          await measure(
            database.url,
            dataDir,
            { id: setup.workspaceId, key: setup.key },
            forms[i]!,
            format,
            timeoutMs,
          ),
        );
        const cell = cells.at(-1)!;
        console.log(
          `${c.label} x ${c.rows} ${format}: ${cell.outcome}, ${cell.seconds} s, ${cell.mib} MiB, RSS +${cell.growth} MiB`,
        );
      }
      results.push({ case: c, cells });
    }
  } finally {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const met = results.every((r) =>
    r.cells.every((cell) => cell.outcome === 'ok' && cell.growth < targetMb),
  );
  printTable(
    `Export memory: RSS growth of the hub process, MiB (target < ${targetMb} at every size and format)`,
    ['row size', 'rows', ...MEMORY_FORMATS.map((f) => f.toUpperCase())],
    results.map((r) => [
      r.case.label,
      r.case.rows.toLocaleString('en-US'),
      ...r.cells.map((cell) =>
        cell.outcome === 'ok' ? `${cell.growth}` : `${cell.growth} (${cell.outcome})`,
      ),
    ]),
  );
  printTable(
    'Export time, s / size, MiB',
    ['row size', 'rows', ...MEMORY_FORMATS.map((f) => f.toUpperCase())],
    results.map((r) => [
      r.case.label,
      r.case.rows.toLocaleString('en-US'),
      ...r.cells.map((cell) => `${cell.seconds} / ${cell.mib}`),
    ]),
  );
  console.log(
    JSON.stringify({
      bench: 'export-memory',
      target_rss_growth_mb: targetMb,
      target_met: met,
      results,
    }),
  );
  return met;
}

/** One export on a fresh hub process: warm-up, then the download with its RSS sampled. */
async function measure(
  url: string,
  dataDir: string,
  workspace: { id: string; key: string },
  formId: string,
  format: Format,
  timeoutMs: number,
): Promise<Cell> {
  const hub = await startExportHub(url, dataDir, {}, workspace);
  try {
    const path = `/api/v2/forms/${formId}/export?format=${format}`;
    await download(hub, `${path}&until=2000-01-01`); // warm-up: no rows, every module loaded
    const sampler = sampleRss(hub.pid);
    const started = performance.now();
    let outcome = 'ok';
    let bytes = 0;
    try {
      const res = await download(hub, path, AbortSignal.timeout(timeoutMs));
      bytes = res.bytes;
      if (res.status !== 200) outcome = `HTTP ${res.status}`;
    } catch (error) {
      const name = (error as Error).name;
      outcome =
        name === 'TimeoutError' || name === 'AbortError'
          ? `timeout ${timeoutMs / 1000} s`
          : `failed: ${(error as Error).message}`;
    }
    const seconds = round((performance.now() - started) / 1000, 1);
    const { growth } = sampler.stop();
    return { format, outcome, seconds, mib: round(bytes / MB, 1), growth: round(growth / MB, 0) };
  } finally {
    await hub.stop();
  }
}
