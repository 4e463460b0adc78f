import type { ResponseRow } from './queries.ts';

/** A response as the API shows it; `fields` projects `data` to those keys. */
export function presentResponse(row: ResponseRow, fields?: readonly string[]) {
  return {
    id: row.id,
    form_id: row.form_id,
    data: fields ? project(row.data, fields) : row.data,
    completed: row.completed,
    submitted_at: row.submitted_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    metadata: row.metadata,
  };
}

export type PresentedResponse = ReturnType<typeof presentResponse>;

function project(
  data: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of fields) if (key in data) out[key] = data[key];
  return out;
}
