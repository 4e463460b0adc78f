import { invalidRequest } from '../errors/index.ts';
import type { FormRow } from '../forms/index.ts';
import { parseBound, parseFilter, parseProjection } from '../responses/index.ts';
import type { ExportRequest } from './export-body.ts';
import type { ExportFormat } from './formats.ts';

/** An export's parameters as sent (query string or job body) and as stored with a job. */
export interface ExportParams {
  format: ExportFormat;
  /** Comma-separated data keys (a job body may send an array). */
  fields?: string | string[] | undefined;
  /** A DSL filter: JSON text (a job body may send the object). */
  filter?: unknown;
  since?: string | undefined;
  until?: string | undefined;
  bom?: boolean | undefined;
}

/**
 * Checks an export's parameters against its form with the listing's rules (unknown field,
 * bad filter or bad date: 400 naming it) and answers what to export.
 */
export function parseExportRequest(form: FormRow, params: ExportParams): ExportRequest {
  const fields = Array.isArray(params.fields) ? params.fields.join(',') : params.fields;
  const filter =
    params.filter === undefined || typeof params.filter === 'string'
      ? params.filter
      : JSON.stringify(params.filter);
  const since = parseBound('since', params.since);
  const until = parseBound('until', params.until);
  if (since && until && since > until) {
    throw invalidRequest('since is after until', [
      { field: 'since', message: 'must not be after until' },
    ]);
  }
  const projection = parseProjection(form, fields);
  return {
    form,
    format: params.format,
    projection,
    bom: params.bom,
    selection: {
      workspaceId: form.workspace_id,
      formId: form.id,
      since,
      until,
      where: parseFilter(form, filter),
    },
  };
}
