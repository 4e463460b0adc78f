import jsonLogic from 'json-logic-js';
import type { CalculatedField } from './field.ts';

/**
 * Evaluates each calculated field's json-logic over `{data}` in order (a later one sees the
 * earlier results) and returns the data with the results stored under their keys. An
 * expression that throws yields null rather than losing the response.
 *
 * @example computeCalculated([{ key: 'n', logic: { '+': [{ var: 'data.a' }, 1] } }], { a: 1 }) // { a: 1, n: 2 }
 */
export function computeCalculated(
  calculated: readonly CalculatedField[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  if (calculated.length === 0) return data;
  const result: Record<string, unknown> = { ...data };
  for (const field of calculated) {
    let value: unknown;
    try {
      value = jsonLogic.apply(field.logic as jsonLogic.RulesLogic, { data: result });
    } catch {
      value = null;
    }
    result[field.key] = value === undefined || (typeof value === 'number' && !Number.isFinite(value)) ? null : value;
  }
  return result;
}

/** Null when json-logic accepts the expression, else why not (e.g. an unknown operator). */
export function checkLogic(logic: unknown): string | null {
  if (logic === null || typeof logic !== 'object') return 'must be a json-logic expression (an object)';
  try {
    jsonLogic.apply(logic as jsonLogic.RulesLogic, { data: {} });
    return null;
  } catch (error) {
    return `is not valid json-logic: ${(error as Error).message}`;
  }
}
