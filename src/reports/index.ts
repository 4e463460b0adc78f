/**
 * Reports (DESIGN.md, "Exports and reports"). Scheduled reports: the API (`reportRoutes`
 * over `ScheduledReportService`), BullMQ job schedulers with a timezone, and the worker's
 * `startReportJobs`, which renders each run through a `ReportRenderer` and mails it.
 */
export { reportRoutes, type ReportRoutesOptions } from './schedule/routes.ts';
export { ScheduledReportService } from './schedule/service.ts';
export {
  startReportJobs,
  syncReportSchedules,
  type ReportJobsDeps,
  type RunningReportJobs,
} from './schedule/jobs.ts';
export { BullReportScheduler, REPORT_QUEUE } from './schedule/bull-report-scheduler.ts';
export type { ReportScheduler, ReportSchedule, ReportJob } from './schedule/scheduler.ts';
export { ReportRunner, DEFAULT_RETRY_DELAYS_MS, NO_SMTP_ERROR } from './schedule/runner.ts';
export type { ReportMailer, ReportMail } from './schedule/mailer.ts';
export { SmtpReportMailer, DEFAULT_REPORT_FROM } from './schedule/smtp-report-mailer.ts';
export type {
  ReportRenderer,
  ReportRenderInput,
  RenderedReport,
  ReportFormat,
} from './schedule/renderer.ts';
export { CsvReportRenderer } from './schedule/csv-report-renderer.ts';
export { FREQUENCY_PATTERNS, nextRunAt, type Frequency } from './schedule/schedule.ts';
export type { ReportPeriod } from './schedule/period.ts';
export { createPdfRenderer, reportSummary } from './pdf-export.ts';
export { ExportReportRenderer } from './export-report-renderer.ts';
export {
  renderReportPdf,
  writeReportPdf,
  loadReportTemplate,
  type ReportInput,
} from './pdf/index.ts';
