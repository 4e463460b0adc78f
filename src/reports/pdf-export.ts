import type { Readable } from 'node:stream';
import { compileQuery, shapeResult, withFormId, type ResultRow } from '../analytics/index.ts';
import type { Queryable } from '../db/index.ts';
import type { PdfExportInput, RenderPdf } from '../exports/index.ts';
import type { FormRow } from '../forms/index.ts';
import type { WorkspaceService } from '../workspaces/index.ts';
import { renderReportPdf, type ReportSummary } from './pdf/index.ts';

const CHOICE_TYPES = new Set(['select', 'radio', 'multiselect', 'boolean', 'rating']);

/** Runs one DSL query over a form (the same compiler as `POST /analytics/.../query`). */
async function query(
  db: Queryable,
  form: FormRow,
  body: Record<string, unknown>,
): Promise<unknown> {
  const compiled = compileQuery(body, {
    fields: form.fields,
    calculatedKeys: form.calculated_fields.map((c) => c.key),
  });
  const { rows } = await db.query<ResultRow>(compiled.sql, withFormId(compiled.params, form.id));
  return shapeResult(rows, compiled.shape);
}

/**
 * The report's summary for a period: totals, daily completed counts and the counts of each
 * choice field, computed with the query DSL over PostgreSQL.
 */
export async function reportSummary(
  db: Queryable,
  form: FormRow,
  since?: Date,
  until?: Date,
): Promise<ReportSummary> {
  const period: Record<string, string> = {};
  if (since) period.$gte = since.toISOString();
  if (until) period.$lte = until.toISOString();
  const base = Object.keys(period).length > 0 ? { submitted_at: period } : {};
  const done = { ...base, completed: true };
  const byState = (await query(db, form, {
    aggregate: 'count',
    group_by: 'completed',
    filter: base,
  })) as Record<string, number>;
  const daily = (await query(db, form, {
    aggregate: 'count',
    group_by: { date_trunc: 'day', field: 'submitted_at' },
    filter: done,
  })) as Record<string, number>;
  const fields: Record<string, { answered: number; counts: Record<string, number> }> = {};
  for (const field of form.fields.filter((f) => CHOICE_TYPES.has(f.type))) {
    const counts = (await query(db, form, {
      aggregate: 'count',
      group_by: `data.${field.key}`,
      filter: done,
    })) as Record<string, number>;
    const answered = (await query(db, form, {
      aggregate: 'count',
      filter: { ...done, [`data.${field.key}`]: { $exists: true, $ne: null } },
    })) as number;
    const values = Object.fromEntries(Object.entries(counts).filter(([value]) => value !== 'null'));
    fields[field.key] = { answered, counts: values };
  }
  const completed = byState.true ?? 0;
  return {
    total: completed + (byState.false ?? 0),
    completed,
    daily: Object.entries(daily).map(([date, count]) => ({ date, count })),
    fields,
  };
}

/**
 * The PDF export and report renderer: the summary by SQL, then the branded report
 * (`src/reports/pdf`) streamed over the export's response pages.
 */
export function createPdfRenderer(db: Queryable, workspaces: WorkspaceService): RenderPdf {
  return async (input: PdfExportInput): Promise<Readable> => {
    const [summary, workspace] = await Promise.all([
      reportSummary(db, input.form, input.since, input.until),
      workspaces.getWorkspace(input.form.workspace_id),
    ]);
    return renderReportPdf({
      form: input.form,
      branding: { name: workspace.name },
      period: { since: input.since, until: input.until },
      generatedAt: input.generatedAt,
      summary,
      responses: input.responses,
    });
  };
}
