export { renderReportPdf, writeReportPdf } from './render-report.ts';
export {
  DEFAULT_TEMPLATE,
  loadReportTemplate,
  parseReportTemplate,
  ReportTemplateError,
  TEMPLATES_DIR,
  type ReportTemplate,
} from './template.ts';
export { resolveFonts, toLatin1, type ReportFonts } from './fonts.ts';
export type {
  ReportBranding,
  ReportForm,
  ReportInput,
  ReportResponse,
  ReportStats,
  ReportSummary,
} from './types.ts';
