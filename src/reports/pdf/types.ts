import type { CalculatedField, Field } from '../../forms/index.ts';
import type { ReportTemplate } from './template.ts';

/** The form as the report needs it (a `FormRow` fits). */
export interface ReportForm {
  id: string;
  title: string;
  description: string | null;
  fields: readonly Field[];
  calculated_fields: readonly CalculatedField[];
}

/** The workspace's branding shown on the cover. */
export interface ReportBranding {
  name: string;
  /** `#rrggbb`; the template's accent colour when absent or malformed. */
  color?: string;
  /** A PNG or JPEG image; skipped if it cannot be decoded. */
  logo?: Buffer;
}

/** Aggregates for the summary section (computed by the caller, e.g. from the analytics module). */
export interface ReportSummary {
  total: number;
  completed: number;
  /** One entry per day (`YYYY-MM-DD`); missing days inside the range are drawn as 0. */
  daily: ReadonlyArray<{ date: string; count: number }>;
  /** Per choice field key: how many responses answered it, and the count of each option. */
  fields: Readonly<Record<string, { answered: number; counts: Readonly<Record<string, number>> }>>;
}

/** One response as the report lists it (a `ResponseRow` or a presented response fits). */
export interface ReportResponse {
  id: string;
  submitted_at: Date | string;
  completed: boolean;
  data: Readonly<Record<string, unknown>>;
}

/** Everything `renderReportPdf` draws. `responses` is consumed once, in order, as the PDF streams. */
export interface ReportInput {
  form: ReportForm;
  branding: ReportBranding;
  period: { since?: Date; until?: Date };
  generatedAt: Date;
  summary: ReportSummary;
  responses: AsyncIterable<ReportResponse> | Iterable<ReportResponse>;
  /** Layout and wording; `templates/reports/default.json` when absent (see `loadReportTemplate`). */
  template?: ReportTemplate;
}

/** What a finished render produced. */
export interface ReportStats {
  pages: number;
  responses: number;
  bytes: number;
}
