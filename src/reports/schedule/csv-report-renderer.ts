import type { Queryable } from '../../db/index.ts';
import { listPeriodResponses } from './queries.ts';
import type {
  RenderedReport,
  ReportFormat,
  ReportRenderer,
  ReportRenderInput,
} from './renderer.ts';

/** One CSV cell (RFC 4180), with a leading `= + - @`, tab or CR neutralised by a `'`. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value)
    ? value.join('; ')
    : value instanceof Date
      ? value.toISOString()
      : String(value);
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date))
    text = JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A file name for a report: the form title slugged, the period's last day, the extension. */
export function reportFilename(title: string, end: Date, extension: string): string {
  const slug =
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'report';
  return `${slug}-${end.toISOString().slice(0, 10)}.${extension}`;
}

/**
 * A minimal CSV renderer (id, submitted_at, completed, then the form's fields): it stands in
 * until the streamed exporters of `src/exports` are plugged in, and serves the tests. It
 * renders CSV whatever the format asked, and does not apply the report's filter.
 */
export class CsvReportRenderer implements ReportRenderer {
  constructor(private readonly db: Queryable) {}

  async render(_format: ReportFormat, input: ReportRenderInput): Promise<RenderedReport> {
    const keys = input.form.fields.map((field) => field.key);
    const rows = await listPeriodResponses(
      this.db,
      input.form.id,
      input.period.start,
      input.period.end,
    );
    const lines = [['id', 'submitted_at', 'completed', ...keys].map(csvCell).join(',')];
    for (const row of rows) {
      lines.push(
        [row.id, row.submitted_at, row.completed, ...keys.map((key) => row.data[key])]
          .map(csvCell)
          .join(','),
      );
    }
    return {
      filename: reportFilename(input.form.title, input.period.end, 'csv'),
      contentType: 'text/csv; charset=utf-8',
      content: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'),
    };
  }
}
