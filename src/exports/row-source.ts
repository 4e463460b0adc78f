import type { Queryable } from '../db/index.ts';
import { selectExportPage, type ExportPageRow, type ExportSelection } from './queries.ts';

/** 1,000 rows per query: few round trips, and at most one page of rows in memory at a time. */
export const EXPORT_PAGE_SIZE = 1000;

export interface RowSourceOptions {
  pageSize?: number;
  /** Stops between pages (the export then fails with the signal's reason). */
  signal?: AbortSignal | undefined;
  /** Called after each page with the number of rows read so far. */
  onPage?: ((rowsRead: number) => void | Promise<void>) | undefined;
}

/**
 * A form's live responses as pages, newest first (the listing's order), read by keyset
 * pagination on `(submitted_at, id)`: each page is one short query, so memory stays flat
 * and no cursor or open transaction is held however many rows there are. It works alike on
 * PostgreSQL and PGlite because it needs nothing but `Queryable.query`.
 *
 * The next page is only queried when the consumer asks for it, so a slow reader (HTTP
 * backpressure) slows the queries down instead of filling memory.
 */
export async function* responsePages(
  db: Queryable,
  selection: ExportSelection,
  options: RowSourceOptions = {},
): AsyncGenerator<ExportPageRow[]> {
  const pageSize = options.pageSize ?? EXPORT_PAGE_SIZE;
  let cursor: { at: string; id: string } | undefined;
  let read = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await selectExportPage(db, selection, cursor, pageSize);
    if (page.length === 0) return;
    read += page.length;
    await options.onPage?.(read);
    yield page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1]!;
    cursor = { at: last.cursor_at, id: last.id };
  }
}
