import { PassThrough, Readable } from 'node:stream';
import type { Database, Queryable } from '../db/index.ts';
import { AppError } from '../errors/index.ts';
import type { FormRow } from '../forms/index.ts';
import { presentResponse, type PresentedResponse } from '../responses/index.ts';
import type { ExportRow } from './cell-values.ts';
import { exportColumns, type ExportColumn } from './columns.ts';
import type { ExportFormat } from './formats.ts';
import type { ExportSelection } from './queries.ts';
import { responsePages, type RowSourceOptions } from './row-source.ts';
import { csvChunks, jsonChunks, ndjsonChunks } from './text-formats.ts';
import { writeXlsx, XLSX_PAGE_SIZE } from './xlsx-writer.ts';

/** What the PDF renderer (src/reports) is given: the form, the columns and the responses, streamed. */
export interface PdfExportInput {
  form: FormRow;
  columns: ExportColumn[];
  /** Newest first, as the API shows them; read lazily, one database page at a time. */
  responses: AsyncIterable<PresentedResponse>;
  since?: Date | undefined;
  until?: Date | undefined;
  generatedAt: Date;
}

/** Renders an export as PDF. Injected: the reports module provides it. */
export type RenderPdf = (input: PdfExportInput) => Promise<Readable>;

/** One export, its parameters checked: which form, format and responses. */
export interface ExportRequest {
  form: FormRow;
  format: ExportFormat;
  selection: ExportSelection;
  /** `fields=`: exactly these data keys, in this order. */
  projection?: string[] | undefined;
  /** CSV only: start with a UTF-8 byte order mark (for Excel). */
  bom?: boolean | undefined;
}

export interface ExportBodyOptions extends RowSourceOptions {
  renderPdf?: RenderPdf | undefined;
}

/** 64 KiB chunks: the queries stay one page ahead of the socket, no more. */
const HIGH_WATER_MARK = 64 * 1024;

/** 422 when the PDF renderer is not wired in; checked before anything is streamed. */
export function assertFormatAvailable(
  format: ExportFormat,
  renderPdf: RenderPdf | undefined,
): void {
  if (format === 'pdf' && !renderPdf)
    throw new AppError('validation_failed', 'pdf export not available');
}

/**
 * The export as a byte stream that reads the database as it is consumed: it pulls one page
 * (at most `EXPORT_PAGE_BYTES` of responses and 1,000 rows, 250 for XLSX, see
 * `XLSX_PAGE_SIZE`) at a time, only when the reader wants more (backpressure all the way
 * down). Given a `Database` and `queryTimeoutMs`, every page runs under that timeout.
 */
export async function exportBody(
  db: Queryable | Database,
  request: ExportRequest,
  options: ExportBodyOptions = {},
): Promise<Readable> {
  const { format, form, projection } = request;
  assertFormatAvailable(format, options.renderPdf);
  const columns = exportColumns(form, projection);
  const pageSize = options.pageSize ?? (format === 'xlsx' ? XLSX_PAGE_SIZE : undefined);
  const pages = responsePages(db, request.selection, { ...options, pageSize });
  if (format === 'pdf') {
    return options.renderPdf!({
      form,
      columns,
      responses: presented(pages, projection),
      since: request.selection.since,
      until: request.selection.until,
      generatedAt: new Date(),
    });
  }
  if (format === 'xlsx') {
    const out = new PassThrough({ highWaterMark: HIGH_WATER_MARK });
    writeXlsx(columns, pages, out).catch((error: unknown) => out.destroy(error as Error));
    return out;
  }
  const chunks =
    format === 'csv'
      ? csvChunks(columns, pages, request.bom ?? false)
      : format === 'json'
        ? jsonChunks(pages, projection)
        : ndjsonChunks(pages, projection);
  return Readable.from(chunks, { objectMode: false, highWaterMark: HIGH_WATER_MARK });
}

async function* presented(
  pages: AsyncIterable<readonly ExportRow[]>,
  projection?: readonly string[],
) {
  for await (const page of pages) for (const row of page) yield presentResponse(row, projection);
}
