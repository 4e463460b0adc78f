import type { Database, Queryable } from '../db/index.ts';
import { countExportedBytes } from './gc-hint.ts';
import { boundedPageReader, type PageReader } from './page-reader.ts';
import { selectExportPage, type ExportPageRow, type ExportSelection } from './queries.ts';

/** At most 1,000 rows per query: few round trips when rows are small. */
export const EXPORT_PAGE_SIZE = 1000;

/**
 * At most 256 KiB of response data per page (plus the one row that crosses it, itself at
 * most the 1 MiB response limit): what a page costs in memory is bounded by bytes, not by
 * rows, so 1,000 responses of 1 MiB are read one row at a time. Small on purpose: the rows
 * of a page outlive the young-generation collections that run while it is written, and
 * with the hub's 64 MB semi-spaces that survival is what grows the heap (2 MiB pages: +97 to
 * +175 MB over 2,000 rows of 40 KB; 256 KiB pages: +0 to +55 MB; docs/BENCHMARKS.md).
 */
export const EXPORT_PAGE_BYTES = 256 * 1024;

export interface RowSourceOptions {
  /** Most rows per page (default `EXPORT_PAGE_SIZE`). */
  pageSize?: number;
  /** Most bytes of `data` and `metadata` per page, as PostgreSQL prints them (default `EXPORT_PAGE_BYTES`). */
  pageBytes?: number | undefined;
  /** QUERY_TIMEOUT: each page's statement is cancelled after this long (needs a `Database`). */
  queryTimeoutMs?: number | undefined;
  /** Stops between pages (the export then fails with the signal's reason). */
  signal?: AbortSignal | undefined;
  /** Called after each page with the number of rows read so far. */
  onPage?: ((rowsRead: number) => void | Promise<void>) | undefined;
}

/**
 * A form's live responses as pages, newest first (the listing's order), read by keyset
 * pagination on `(submitted_at, id)`: each page is one short query, cut by PostgreSQL at
 * `pageBytes` (a running sum of the rows' sizes) or `pageSize` rows, whichever comes first,
 * so memory stays flat whatever the rows' size and count, and no cursor or long transaction
 * is held. It works alike on PostgreSQL and PGlite (which has no server-side cursor).
 *
 * After a page cut by bytes, the next page asks for at most twice as many rows as fitted, so
 * PostgreSQL does not size rows it will not send.
 *
 * The next page is only queried when the consumer asks for it, so a slow reader (HTTP
 * backpressure) slows the queries down instead of filling memory.
 */
export async function* responsePages(
  db: Queryable | Database,
  selection: ExportSelection,
  options: RowSourceOptions = {},
): AsyncGenerator<ExportPageRow[]> {
  const maxRows = options.pageSize ?? EXPORT_PAGE_SIZE;
  const budget = options.pageBytes ?? EXPORT_PAGE_BYTES;
  const read: PageReader = boundedPageReader(db, options.queryTimeoutMs);
  let limit = maxRows;
  let cursor: { at: string; id: string } | undefined;
  let rowsRead = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const after = cursor;
    const page = await read((q) => selectExportPage(q, selection, after, limit, budget));
    if (page.length === 0) return;
    rowsRead += page.length;
    await options.onPage?.(rowsRead);
    const cutByRows = page.length >= limit;
    const last = page[page.length - 1]!;
    const more = cutByRows || Number(last.bytes_through) >= budget;
    countExportedBytes(Number(last.bytes_through));
    yield page;
    if (!more) return;
    limit = cutByRows ? maxRows : Math.min(maxRows, Math.max(8, page.length * 2));
    cursor = { at: last.cursor_at, id: last.id };
  }
}
