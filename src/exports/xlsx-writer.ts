import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ExportRow } from './cell-values.ts';
import type { ExportColumn } from './columns.ts';
import { xlsxNumberFormat, xlsxRow } from './xlsx-cells.ts';

/**
 * Rows per database page for XLSX (CSV and the others read 1,000). exceljs allocates so much
 * per cell that V8 runs a young-generation GC every ~800 rows; a 1,000-row page outlives two
 * of them, so its rows are promoted to the old generation and pile up there as garbage until
 * the next full GC (measured at 100,000 rows: heap +108 MiB, Buffers +57 MiB, RSS +122 MiB,
 * all freed by a forced GC). 250-row pages die young: RSS +0.5 MiB on the same run.
 * See docs/benchmarks/exports.md.
 */
export const XLSX_PAGE_SIZE = 250;

/**
 * Writes an XLSX workbook (one sheet, "Responses", header row first) to `out` with exceljs's
 * streaming `WorkbookWriter`: each row is committed as it is written, so only the current
 * page is in memory. Between pages it waits for exceljs's zip entry and for `out` to drain,
 * so a slow reader slows the queries down. Shared strings are off (they would be kept in
 * memory until the end). Read `pages` of `XLSX_PAGE_SIZE` rows to keep memory flat.
 */
export async function writeXlsx(
  columns: readonly ExportColumn[],
  pages: AsyncIterable<readonly ExportRow[]>,
  out: Writable,
): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('Responses');
  sheet.columns = columns.map((c) => {
    const numFmt = xlsxNumberFormat(c.kind);
    return {
      header: c.key,
      key: c.key,
      width: Math.max(12, Math.min(40, c.key.length + 2)),
      ...(numFmt ? { style: { numFmt } } : {}),
    };
  });
  for await (const page of pages) {
    for (const row of page) sheet.addRow(xlsxRow(columns, row)).commit();
    await zipCaughtUp(sheet, out);
    if (out.writableNeedDrain) await drained(out);
    if (out.destroyed) throw new Error('the export stream was closed');
    // Let the zip stream take what was committed before the next page is read.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  sheet.commit();
  await workbook.commit();
}

/** Resolves when `out` drains or closes (a closed reader must not leave the writer waiting). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/**
 * How much of the sheet's XML may wait for the zip compressor before rows pause: small, so
 * that the queued Buffers are consumed before a GC would promote them.
 */
const ZIP_BACKLOG_BYTES = 256 * 1024;

interface SheetInternals {
  _stream?: {
    pipes?: {
      _writableState?: { length?: number };
      once(event: 'drain', cb: () => void): void;
      off(event: 'drain', cb: () => void): void;
    }[];
  };
}

/**
 * exceljs's worksheet stream writes into the zip entry without heeding backpressure, so on
 * a large export the uncompressed XML piles up in memory ahead of the compressor (measured:
 * +38 MB per 100,000 rows). Waiting here for that entry to drain keeps memory flat. It
 * reads exceljs internals; when they are absent (another exceljs version) it does nothing.
 */
async function zipCaughtUp(sheet: unknown, out: Writable): Promise<void> {
  const entry = (sheet as SheetInternals)._stream?.pipes?.[0];
  const backlog = entry?._writableState?.length ?? 0;
  if (!entry || backlog <= ZIP_BACKLOG_BYTES || out.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      entry.off('drain', done);
      out.off('close', done);
      resolve();
    };
    entry.once('drain', done);
    out.once('close', done); // a reader that went away must not leave the writer waiting
  });
}
