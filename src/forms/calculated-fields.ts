import { measureJson } from '../common/index.ts';
import { validationFailed } from '../errors/index.ts';
import { evaluateLogic, isLogic, LOGIC_OPERATORS, LogicBudgetError } from './bounded-logic.ts';
import type { CalculatedField, FieldIssue } from './field.ts';

/**
 * Bounds of a calculated field (DESIGN.md 3a): its expression (serialized bytes, levels of
 * JSON nesting) and its result (serialized bytes). Evaluation is bounded by LOGIC_BUDGET.
 */
export const CALCULATED_LIMITS = {
  maxLogicBytes: 10 * 1024,
  maxLogicDepth: 32,
  maxResultBytes: 64 * 1024,
  /** Far past anything an expression of 32 levels builds; keeps later walks off the stack limit. */
  maxResultDepth: 128,
} as const;

/**
 * Evaluates each calculated field's json-logic over `{data}` in order (a later one sees the
 * earlier results) and returns the data with the results stored under their keys. An
 * expression that fails (a wrong type, say) yields null rather than losing the response;
 * one that needs more than the operation budget, or whose result is past 64 KB, is refused.
 *
 * @throws AppError 422 `validation_failed` naming the field whose bounds were passed.
 * @example computeCalculated([{ key: 'n', logic: { '+': [{ var: 'data.a' }, 1] } }], { a: 1 }) // { a: 1, n: 2 }
 */
export function computeCalculated(
  calculated: readonly CalculatedField[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  if (calculated.length === 0) return data;
  const result: Record<string, unknown> = { ...data };
  for (const field of calculated) {
    const { value, problem } = calculate(field, result);
    if (problem !== null) {
      throw validationFailed('a calculated field passed its bounds', [
        { field: field.key, message: problem },
      ]);
    }
    result[field.key] = value;
  }
  return result;
}

/** One field's value, or why it passed its bounds. */
function calculate(
  field: CalculatedField,
  data: Record<string, unknown>,
): { value: unknown; problem: string | null } {
  let value: unknown;
  try {
    value = evaluateLogic(field.logic, { data });
  } catch (error) {
    if (error instanceof LogicBudgetError) return { value: null, problem: error.message };
    // Anything else is the expression failing on this data (json-logic-js gave null too).
    value = null;
  }
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) value = null;
  const { depth, bytes } = measureJson(value, {
    maxDepth: CALCULATED_LIMITS.maxResultDepth,
    maxBytes: CALCULATED_LIMITS.maxResultBytes,
  });
  if (bytes > CALCULATED_LIMITS.maxResultBytes) {
    return {
      value,
      problem: `its result must be at most ${CALCULATED_LIMITS.maxResultBytes} bytes as JSON`,
    };
  }
  if (depth > CALCULATED_LIMITS.maxResultDepth) {
    return {
      value,
      problem: `its result must not be nested deeper than ${CALCULATED_LIMITS.maxResultDepth} levels`,
    };
  }
  return { value, problem: null };
}

/**
 * Null when an expression may be saved, else why not: at most 10 KB and 32 levels of JSON,
 * and only operators json-logic has. Static: nothing is evaluated here.
 */
export function checkLogic(logic: unknown): string | null {
  if (logic === null || typeof logic !== 'object')
    return 'must be a json-logic expression (an object)';
  const { depth, bytes } = measureJson(logic, {
    maxDepth: CALCULATED_LIMITS.maxLogicDepth,
    maxBytes: CALCULATED_LIMITS.maxLogicBytes,
  });
  if (depth > CALCULATED_LIMITS.maxLogicDepth) {
    return `must not be nested deeper than ${CALCULATED_LIMITS.maxLogicDepth} levels`;
  }
  if (bytes > CALCULATED_LIMITS.maxLogicBytes)
    return `must be at most ${CALCULATED_LIMITS.maxLogicBytes} bytes as JSON`;
  const unknown = unknownOperator(logic);
  return unknown === null ? null : `is not valid json-logic: Unrecognized operation ${unknown}`;
}

/** The first operator json-logic does not have, or null (the depth is already bounded). */
function unknownOperator(logic: unknown): string | null {
  if (Array.isArray(logic)) {
    for (const item of logic) {
      const found = unknownOperator(item);
      if (found !== null) return found;
    }
    return null;
  }
  if (!isLogic(logic)) return null;
  const op = Object.keys(logic)[0] as string;
  return LOGIC_OPERATORS.has(op) ? unknownOperator(logic[op]) : op;
}

/**
 * The calculated fields that certainly pass their bounds, whatever the answers: each is
 * evaluated once over empty answers, within the same budget as a submission, so a form
 * save never runs an unbounded evaluation. Issues name `calculated_fields[i].logic`.
 */
export function calculatedBoundIssues(calculated: readonly CalculatedField[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const data: Record<string, unknown> = {};
  calculated.forEach((field, i) => {
    const { value, problem } = calculate(field, data);
    if (problem !== null) {
      issues.push({
        field: `calculated_fields[${i}].logic`,
        message: `${problem} (even with no answers)`,
      });
    }
    data[field.key] = problem === null ? value : null;
  });
  return issues;
}
