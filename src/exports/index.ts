export { exportRoutes, type ExportRoutesOptions } from './routes.ts';
export { ExportThreadPool, type ExportThreadPoolOptions } from './export-thread-pool.ts';
export { ExportJobs, type ExportJobsOptions } from './export-jobs.ts';
export {
  exportBody,
  type ExportRequest,
  type PdfExportInput,
  type RenderPdf,
} from './export-body.ts';
export { parseExportRequest, type ExportParams } from './export-params.ts';
export { exportColumns, type ExportColumn, type ColumnKind } from './columns.ts';
export { responsePages, EXPORT_PAGE_SIZE } from './row-source.ts';
export { countExportRows, type ExportSelection } from './queries.ts';
export {
  csvHeader,
  csvLine,
  csvRow,
  csvText,
  neutraliseFormula,
  quoteCsv,
  UTF8_BOM,
} from './csv-format.ts';
export { xlsxValue, xlsxRow, type XlsxValue } from './xlsx-cells.ts';
export { XLSX_PAGE_SIZE } from './xlsx-writer.ts';
export { contentDisposition, exportFileName, slugify } from './file-name.ts';
export { EXPORT_FORMATS, FORMAT_INFO, type ExportFormat } from './formats.ts';
export { countRenderTime } from './gc-hint.ts';
