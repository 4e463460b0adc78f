export { etagMatches } from '../common/index.ts';
import type { FormRow } from './queries.ts';

/** A form as the API shows it to its workspace. */
export function presentForm(row: FormRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    status: row.status,
    version: row.version,
    fields: row.fields,
    calculated_fields: row.calculated_fields,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The public view of a published form: what a form renderer needs, nothing more. */
export function presentPublicForm(row: FormRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    version: row.version,
    fields: row.fields,
  };
}

const publicJson = new WeakMap<FormRow, string>();

/** The public view as JSON text, made once per (cached) row: the schema route's hot path. */
export function publicFormJson(row: FormRow): string {
  let json = publicJson.get(row);
  if (json === undefined) {
    json = JSON.stringify(presentPublicForm(row));
    publicJson.set(row, json);
  }
  return json;
}

/** A strong ETag for the public schema: it changes exactly when `version` does. */
export function schemaEtag(row: FormRow): string {
  return `"${row.id}.v${row.version}"`;
}
