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

/** The public schema's answer, ready to write: its bytes and its ETag. */
export interface PublicSchemaAnswer {
  body: Buffer;
  etag: string;
}

const publicAnswers = new WeakMap<FormRow, PublicSchemaAnswer>();

/**
 * The public view as JSON bytes with its ETag, made once per (cached) row: the schema
 * route's hot path writes them without JSON work or UTF-8 encoding per request.
 */
export function publicSchemaAnswer(row: FormRow): PublicSchemaAnswer {
  let answer = publicAnswers.get(row);
  if (answer === undefined) {
    answer = { body: Buffer.from(JSON.stringify(presentPublicForm(row))), etag: schemaEtag(row) };
    publicAnswers.set(row, answer);
  }
  return answer;
}

/** A strong ETag for the public schema: it changes exactly when `version` does. */
export function schemaEtag(row: FormRow): string {
  return `"${row.id}.v${row.version}"`;
}
