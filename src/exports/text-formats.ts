import { presentResponse } from '../responses/index.ts';
import type { ExportRow } from './cell-values.ts';
import type { ExportColumn } from './columns.ts';
import { csvHeader, csvRow, UTF8_BOM } from './csv-format.ts';

type Pages = AsyncIterable<readonly ExportRow[]>;

/** CSV text, one chunk per page: the header (after an optional BOM), then the rows. */
export async function* csvChunks(
  columns: readonly ExportColumn[],
  pages: Pages,
  bom = false,
): AsyncGenerator<string> {
  yield (bom ? UTF8_BOM : '') + csvHeader(columns);
  for await (const page of pages) {
    let chunk = '';
    for (const row of page) chunk += csvRow(columns, row);
    yield chunk;
  }
}

/** NDJSON: one Response object (as the API shows it) per line. */
export async function* ndjsonChunks(
  pages: Pages,
  projection?: readonly string[],
): AsyncGenerator<string> {
  for await (const page of pages) {
    let chunk = '';
    for (const row of page) chunk += `${JSON.stringify(presentResponse(row, projection))}\n`;
    yield chunk;
  }
}

/** A JSON array of Response objects, written as it is read. */
export async function* jsonChunks(
  pages: Pages,
  projection?: readonly string[],
): AsyncGenerator<string> {
  yield '[';
  let first = true;
  for await (const page of pages) {
    let chunk = '';
    for (const row of page) {
      chunk += `${first ? '\n' : ',\n'}${JSON.stringify(presentResponse(row, projection))}`;
      first = false;
    }
    yield chunk;
  }
  yield first ? ']\n' : '\n]\n';
}
