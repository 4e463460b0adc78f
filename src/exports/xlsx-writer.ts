import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ExportRow } from './cell-values.ts';
import type { ExportColumn } from './columns.ts';
import { xlsxNumberFormat, xlsxRow } from './xlsx-cells.ts';

/**
 * Writes an XLSX workbook (one sheet, "Responses", header row first) to `out` with exceljs's
 * streaming `WorkbookWriter`: each row is committed as it is written, so only the current
 * page is in memory. Between pages it waits for `out` to drain, so a slow reader slows the
 * queries down. Shared strings are off (they would be kept in memory until the end).
 */
export async function writeXlsx(
  columns: readonly ExportColumn[],
  pages: AsyncIterable<readonly ExportRow[]>,
  out: Writable,
): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet('Responses');
  sheet.columns = columns.map((c) => {
    const numFmt = xlsxNumberFormat(c.kind);
    return { header: c.key, key: c.key, width: Math.max(12, Math.min(40, c.key.length + 2)), ...(numFmt ? { style: { numFmt } } : {}) };
  });
  for await (const page of pages) {
    for (const row of page) sheet.addRow(xlsxRow(columns, row)).commit();
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
