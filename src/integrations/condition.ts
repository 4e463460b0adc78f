import { compilePredicate, type ResponsePredicate } from '../analytics/index.ts';
import { AppError, validationFailed } from '../errors/index.ts';
import type { Field } from '../forms/index.ts';

/** What a condition is checked against: the form's fields and calculated field keys. */
export interface ConditionForm {
  fields: readonly Field[];
  calculatedKeys: readonly string[];
  /**
   * A workspace-wide integration's condition: `data.<key>` paths the form does not have are
   * untyped (a missing value for its responses) instead of an error, since the condition
   * belongs to no one form. Without a form at all (`fields: []`), only the grammar is checked.
   */
  openKeys?: boolean;
}

/**
 * Compiles an integration's condition (DESIGN.md section 4a), a filter in the grammar of the
 * analytics `filter`, into an in-memory predicate over an event's response.
 *
 * @throws AppError `validation_failed` (422) naming the part (`condition.data.hours.$gte`):
 *   a condition is a stored setting, not a query parameter, so it fails as one.
 * @example compileCondition({ 'data.hours': { $gte: 40 } }, form)(response)
 */
export function compileCondition(condition: unknown, form: ConditionForm): ResponsePredicate {
  try {
    return compilePredicate(condition, form, 'condition');
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw validationFailed('the condition is not a valid filter', error.details);
  }
}
