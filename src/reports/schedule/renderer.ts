import type { Readable } from 'node:stream';
import type { FormRow } from '../../forms/index.ts';
import type { ReportPeriod } from './period.ts';

export type ReportFormat = 'pdf' | 'csv' | 'xlsx';

/** What a renderer is given to produce one report file. */
export interface ReportRenderInput {
  reportId: string;
  workspaceId: string;
  form: FormRow;
  /** Responses submitted in [start, end). */
  period: ReportPeriod;
  /** The report's analytics DSL filter, when it has one. */
  filter: Record<string, unknown> | null;
  /** The report's IANA timezone, for dates shown in the file. */
  timezone: string;
}

/** One rendered report file. A stream is read once, to the end. */
export interface RenderedReport {
  filename: string;
  contentType: string;
  content: Buffer | Readable;
}

/**
 * Produces report files. The PDF renderer (`src/reports/pdf`) and the CSV/XLSX exporters
 * (`src/exports`) plug in through this contract; `CsvReportRenderer` is a minimal one.
 */
export interface ReportRenderer {
  render(format: ReportFormat, input: ReportRenderInput): Promise<RenderedReport>;
}
