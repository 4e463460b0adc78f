import { compileFilter } from '../analytics/index.ts';
import { AppError, validationFailed } from '../errors/index.ts';
import type { Field } from '../forms/index.ts';

/** What the DSL needs of a form to compile a match against it. */
export interface MatchForm {
  id: string;
  fields: readonly Field[];
  calculated_fields: readonly { key: string }[];
}

/**
 * The condition of `match` over `responses r` for one form, as compileFilter builds it
 * (`match.data.age.$gt` names a bad part). Without a form id the erasure spans the
 * workspace: a `data.<key>` that this form does not define is then an untyped path (it
 * matches as the value stored, usually nothing) rather than an error, as in a
 * workspace-wide integration's condition.
 *
 * @throws AppError 422 `validation_failed` naming the part (the DSL's own 400 turned into
 *   the 422 of a bad body field).
 */
export function compileMatch(
  match: unknown,
  form: MatchForm,
  workspaceWide: boolean,
): (params: unknown[]) => string {
  const ctx = {
    fields: form.fields,
    calculatedKeys: form.calculated_fields.map((c) => c.key),
    openKeys: workspaceWide,
  };
  asValidation(() => compileFilter(match, ctx, [], 'match'));
  return (params) => compileFilter(match, ctx, params, 'match');
}

/** Checks the shape of a workspace-wide match before any form is known. */
export function checkMatchShape(match: unknown): void {
  asValidation(() =>
    compileFilter(match, { fields: [], calculatedKeys: [], openKeys: true }, [], 'match'),
  );
}

function asValidation<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_request')
      throw validationFailed(error.message, error.details);
    throw error;
  }
}
