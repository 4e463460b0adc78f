import { at, atIndex, dslError, isPlainObject } from './errors.ts';
import {
  bind,
  checkScalar,
  checkText,
  operandOf,
  resolveFilterPath,
  scalarKindOf,
  typedValue,
  type Operand,
  type ScalarKind,
} from './operand.ts';
import type { CompileContext } from './types.ts';

/** Deeper filters are refused: they only serve to exhaust the stack. */
export const MAX_DEPTH = 32;
/** The longest list `$in` and `$nin` (and `$eq` of a multiselect) take. */
export const MAX_LIST = 1000;
/**
 * The most comparisons one filter holds, wherever they sit under `$and`, `$or` and `$not`
 * (DESIGN.md section 3a): 1,000 ORed comparisons ran for seconds on 20k responses.
 */
export const MAX_PREDICATES = 200;

const COMPARISONS = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;
type Comparison = keyof typeof COMPARISONS;

interface Env {
  ctx: CompileContext;
  params: unknown[];
  /** Comparisons compiled so far, against MAX_PREDICATES. */
  predicates: number;
}

/**
 * Compiles a DSL filter into a SQL boolean expression over `responses r` (`r.data`, `r.metadata`,
 * `r.completed`, `r.submitted_at`, `r.updated_at`). Every value and every field key goes
 * into `params` (referred to as `$n`, n = its position after the push); the SQL holds no
 * user text. The expression is never NULL, so `NOT` of it is exact. Missing fields follow
 * MongoDB: `$ne`/`$nin` match them, `$eq: null` matches missing or null, comparisons never do.
 *
 * @throws AppError `invalid_request` naming the offending part (`filter.data.age.$gt`; `root`
 *   names the request field the filter came in, `filter` unless told).
 * @example compileFilter({ 'data.age': { $gte: 18 } }, ctx, params) // CASE WHEN jsonb_typeof(...
 */
export function compileFilter(
  filter: unknown,
  ctx: CompileContext,
  params: unknown[],
  root = 'filter',
): string {
  return compileNode(filter, { ctx, params, predicates: 0 }, root, 0);
}

function compileNode(node: unknown, env: Env, where: string, depth: number): string {
  if (!isPlainObject(node)) throw dslError(where, 'must be an object');
  if (depth > MAX_DEPTH) throw dslError(where, `nests deeper than ${MAX_DEPTH} levels`);
  const parts = Object.entries(node).map(([key, value]) =>
    compileEntry(key, value, env, at(where, key), depth),
  );
  return allOf(parts);
}

function compileEntry(key: string, value: unknown, env: Env, where: string, depth: number): string {
  if (key === '$and' || key === '$or') {
    if (!Array.isArray(value) || value.length === 0)
      throw dslError(where, 'must be a non-empty list of filters');
    // Checked before a member is compiled: a list of 40,000 must cost no more than one of 201.
    if (value.length > MAX_PREDICATES)
      throw dslError(
        where,
        `must hold at most ${MAX_PREDICATES} filters (a filter holds at most ${MAX_PREDICATES} predicates)`,
      );
    const parts = value.map((item, i) => compileNode(item, env, atIndex(where, i), depth + 1));
    return key === '$and' ? allOf(parts) : `(${parts.join(' OR ')})`;
  }
  if (key === '$not') return `(NOT ${compileNode(value, env, where, depth + 1)})`;
  if (key.startsWith('$'))
    throw dslError(where, 'is not a logical operator: use $and, $or, $not or a path');
  const operand = operandOf(resolveFilterPath(key, env.ctx, where), env.params);
  if (!isOperatorObject(value, where)) {
    countPredicate(env, where);
    return equals(operand, value, where);
  }
  return compileOperators(operand, value, env, where, depth);
}

/** Counts one comparison; a 400 naming it when it is one too many. */
function countPredicate(env: Env, where: string): void {
  env.predicates += 1;
  if (env.predicates > MAX_PREDICATES) {
    throw dslError(where, `is one predicate too many: a filter holds at most ${MAX_PREDICATES}`);
  }
}

/** True for `{"$op": ...}`; false for a bare value; a 400 for objects that are neither. */
function isOperatorObject(value: unknown, where: string): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) return true;
  throw dslError(where, 'must be a value or an object of operators ($eq, $gt, ...)');
}

function compileOperators(
  operand: Operand,
  ops: Record<string, unknown>,
  env: Env,
  where: string,
  depth: number,
): string {
  if (depth > MAX_DEPTH) throw dslError(where, `nests deeper than ${MAX_DEPTH} levels`);
  const parts = Object.entries(ops).map(([op, value]) => {
    const here = at(where, op);
    if (op === '$not') {
      if (!isPlainObject(value) || !isOperatorObject(value, here)) {
        throw dslError(here, 'must be an object of operators');
      }
      return `(NOT ${compileOperators(operand, value, env, here, depth + 1)})`;
    }
    countPredicate(env, here);
    return compileOperator(operand, op, value, here);
  });
  return allOf(parts);
}

function compileOperator(operand: Operand, op: string, value: unknown, where: string): string {
  switch (op) {
    case '$eq':
      return equals(operand, value, where);
    case '$ne':
      return `(NOT ${equals(operand, value, where)})`;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return compare(operand, op, value, where);
    case '$in':
      return inList(operand, value, where);
    case '$nin':
      return `(NOT ${inList(operand, value, where)})`;
    case '$exists':
      return exists(operand, value, where);
    case '$contains':
      return contains(operand, value, where);
    default:
      throw dslError(
        where,
        'is not an operator: use $eq $ne $gt $gte $lt $lte $in $nin $exists $contains $not',
      );
  }
}

/** Missing or JSON null; a column is never either. */
function isNull(operand: Operand): string {
  if (operand.target.column) return 'false';
  return `(coalesce(jsonb_typeof(${operand.json}), 'null') = 'null')`;
}

/** A predicate that holds only where the stored value is of `kind`. */
function guarded(operand: Operand, kind: ScalarKind, predicate: (value: string) => string): string {
  const typed = typedValue(operand, kind);
  const test = predicate(typed.value);
  return typed.guard ? `(CASE WHEN ${typed.guard} THEN ${test} ELSE false END)` : `(${test})`;
}

function whenArray(operand: Operand, test: string): string {
  return `(CASE WHEN jsonb_typeof(${operand.json}) = 'array' THEN ${test} ELSE false END)`;
}

function equals(operand: Operand, value: unknown, where: string): string {
  if (value === null) return isNull(operand);
  if (operand.target.kind === 'multiselect') {
    if (typeof value === 'string')
      return whenArray(
        operand,
        `${operand.json} @> jsonb_build_array(${bind(operand.params, checkText(value, where), 'text')})`,
      );
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      if (value.length > MAX_LIST) throw dslError(where, `must hold at most ${MAX_LIST} options`);
      value.forEach((v, i) => checkText(v, atIndex(where, i)));
      return whenArray(
        operand,
        `${operand.json} = ${bind(operand.params, JSON.stringify(value), 'jsonb')}`,
      );
    }
    throw dslError(where, 'must be an option (a string), a list of options or null');
  }
  const kind = scalarKindOf(operand.target, value, where);
  const param = bind(operand.params, checkScalar(kind, value, where), CASTS[kind]);
  return guarded(operand, kind, (v) => `${v} = ${param}`);
}

function compare(operand: Operand, op: Comparison, value: unknown, where: string): string {
  const { kind: targetKind } = operand.target;
  if (targetKind === 'boolean' || targetKind === 'multiselect') {
    throw dslError(where, `does not apply to a ${targetKind} field`);
  }
  const kind = scalarKindOf(operand.target, value, where);
  if (kind === 'boolean') throw dslError(where, 'must be a number, a string or a date');
  const param = bind(operand.params, checkScalar(kind, value, where), CASTS[kind]);
  const collate = kind === 'text' ? ' COLLATE "C"' : '';
  return guarded(operand, kind, (v) => `${v}${collate} ${COMPARISONS[op]} ${param}`);
}

function inList(operand: Operand, list: unknown, where: string): string {
  if (!Array.isArray(list)) throw dslError(where, 'must be a list');
  if (list.length > MAX_LIST) throw dslError(where, `must hold at most ${MAX_LIST} values`);
  const parts: string[] = list.includes(null) ? [isNull(operand)] : [];
  if (operand.target.kind === 'multiselect') parts.push(...anyOption(operand, list, where));
  else parts.push(...anyValue(operand, list, where));
  return parts.length > 0 ? `(${parts.join(' OR ')})` : 'false';
}

/** A multiselect whose choices meet the (non-null) options of `list`. */
function anyOption(operand: Operand, list: unknown[], where: string): string[] {
  list.forEach((v, i) => {
    if (v !== null && typeof v !== 'string') {
      throw dslError(atIndex(where, i), 'must be an option (a string) or null');
    }
    if (v !== null) checkText(v, atIndex(where, i));
  });
  const options = list.filter((v) => v !== null);
  if (options.length === 0) return [];
  const param = bind(operand.params, JSON.stringify(options), 'jsonb');
  return [
    whenArray(operand, `${operand.json} ?| ARRAY(SELECT jsonb_array_elements_text(${param}))`),
  ];
}

/** A value equal to one of the (non-null) values of `list`, one test per kind of value. */
function anyValue(operand: Operand, list: unknown[], where: string): string[] {
  const byKind = new Map<ScalarKind, unknown[]>();
  list.forEach((v, i) => {
    if (v === null) return;
    const kind = scalarKindOf(operand.target, v, atIndex(where, i));
    byKind.set(kind, [...(byKind.get(kind) ?? []), checkScalar(kind, v, atIndex(where, i))]);
  });
  return [...byKind].map(([kind, members]) => {
    const param = bind(operand.params, JSON.stringify(members), 'jsonb');
    const element = kind === 'text' ? 'e.value' : `e.value::${CASTS[kind]}`;
    const elements = `SELECT ${element} FROM jsonb_array_elements_text(${param}) AS e`;
    return guarded(operand, kind, (v) => `${v} IN (${elements})`);
  });
}

function exists(operand: Operand, value: unknown, where: string): string {
  if (typeof value !== 'boolean') throw dslError(where, 'must be true or false');
  if (operand.target.column) return value ? 'true' : 'false';
  return `(${operand.json} IS ${value ? 'NOT ' : ''}NULL)`;
}

function contains(operand: Operand, value: unknown, where: string): string {
  const { kind } = operand.target;
  if (kind !== 'text' && kind !== 'multiselect' && kind !== 'any') {
    throw dslError(where, 'applies to text and multiselect fields only');
  }
  if (typeof value !== 'string') throw dslError(where, 'must be a string');
  const param = bind(operand.params, checkText(value, where), 'text');
  const substring = `strpos(${operand.text}, ${param}) > 0`;
  const element = `${operand.json} @> jsonb_build_array(${param})`;
  if (kind === 'text') return guarded(operand, 'text', () => substring);
  if (kind === 'multiselect') return whenArray(operand, element);
  return `(CASE jsonb_typeof(${operand.json}) WHEN 'string' THEN ${substring} WHEN 'array' THEN ${element} ELSE false END)`;
}

function allOf(parts: string[]): string {
  if (parts.length === 0) return 'true';
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' AND ')})`;
}

/** The SQL type a parameter of each kind is cast to. */
const CASTS: Record<ScalarKind, string> = {
  number: 'numeric',
  text: 'text',
  boolean: 'boolean',
  date: 'timestamptz',
  datetime: 'timestamptz',
  timestamp: 'timestamptz',
};
