import { compileFilter } from '../analytics/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import {
  exportBody,
  exportFileName,
  FORMAT_INFO,
  type ExportThreadPool,
  type RenderPdf,
} from '../exports/index.ts';
import type {
  ReportFormat,
  ReportRenderer,
  ReportRenderInput,
  RenderedReport,
} from './schedule/renderer.ts';

/**
 * Scheduled reports rendered by the export machinery: CSV and XLSX as streamed exports, PDF
 * as the branded report; the report's filter and period select the responses. They take the
 * exports' bounded paths: pages bounded by bytes, each under `queryTimeoutMs` when given a
 * `Database`, PDF rendered in slices with the process's render slots. Given the hub's export
 * threads, a report is read and formatted there, as an export is, away from the event loop
 * (the API's, in `formhub serve`).
 */
export class ExportReportRenderer implements ReportRenderer {
  constructor(
    private readonly db: Queryable | Database,
    private readonly renderPdf: RenderPdf,
    private readonly options: {
      queryTimeoutMs?: number | undefined;
      threads?: ExportThreadPool | undefined;
    } = {},
  ) {}

  async render(format: ReportFormat, input: ReportRenderInput): Promise<RenderedReport> {
    const { form, filter, period } = input;
    const { threads } = this.options;
    const info = FORMAT_INFO[format];
    const filename = exportFileName(form.title, period.end, info.extension);
    if (threads) {
      // The same selection as below, as an export's parameters: the thread compiles them again.
      const until = new Date(period.end.getTime() - 1).toISOString();
      const params = {
        format,
        since: period.start.toISOString(),
        until,
        filter: filter ?? undefined,
      };
      const content = await threads.export(form, params);
      return { filename, contentType: info.contentType, content };
    }
    const ctx = { fields: form.fields, calculatedKeys: form.calculated_fields.map((c) => c.key) };
    const content = await exportBody(
      this.db,
      {
        form,
        format,
        selection: {
          workspaceId: input.workspaceId,
          formId: form.id,
          since: period.start,
          until: new Date(period.end.getTime() - 1),
          where: filter ? (params) => compileFilter(filter, ctx, params) : undefined,
        },
      },
      { renderPdf: this.renderPdf, queryTimeoutMs: this.options.queryTimeoutMs },
    );
    return { filename, contentType: info.contentType, content };
  }
}
