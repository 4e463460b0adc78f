import { compileFilter } from './compile-filter.ts';
import { at, atIndex, dslError, isPlainObject } from './errors.ts';
import { nullableValue, operandOf, resolvePath, type Operand } from './operand.ts';
import {
  AGGREGATES,
  DATE_TRUNC_UNITS,
  type Aggregate,
  type CompileContext,
  type CompiledQuery,
  type DateTruncUnit,
  type QueryResult,
  type ResultRow,
  type ResultShape,
  type ValueKind,
} from './types.ts';

/**
 * `params[0]` of every compiled query: the caller puts the form id there (`withFormId`).
 * A symbol rather than null, so that a forgotten form id fails loudly instead of matching
 * nothing.
 */
export const FORM_ID_PLACEHOLDER: unique symbol = Symbol('formhub.analytics.formId');

const QUERY_KEYS = ['aggregate', 'field', 'group_by', 'limit', 'filter'];
const MAX_LEVELS = 3;
const MAX_LIMIT = 1000;
const ISO_MS = `YYYY-MM-DD"T"HH24:MI:SS.MS"Z"`;
const TRUNC_FORMATS: Record<DateTruncUnit, string> = {
  hour: `YYYY-MM-DD"T"HH24":00:00Z"`,
  day: 'YYYY-MM-DD',
  week: 'YYYY-MM-DD',
  month: 'YYYY-MM',
};

/** The aggregate of a query: its input column `x` of `src` and the SQL over it. */
interface CompiledAggregate {
  input: string;
  sql: (x: string) => string;
  value: ValueKind;
}

/** One grouping level: its key expression, and the lateral join it needs, if any. */
interface CompiledGroup {
  key: string;
  join?: string;
}

/**
 * Compiles a query of the DSL into ONE parameterised statement over the form's live
 * responses (`responses r WHERE r.form_id = $1 AND NOT r.deleted AND <filter>`).
 *
 * `$1` is the form id, which the compiler does not know: `params[0]` is
 * `FORM_ID_PLACEHOLDER`, and the caller replaces it (`withFormId(params, formId)`) before
 * running the statement. Every other parameter is filled in. Rows come back as
 * `{g0?, g1?, g2?, value}`, for `shapeResult`.
 *
 * @throws AppError `invalid_request` naming the offending part of the query.
 * @example
 * const q = compileQuery({ aggregate: 'count', group_by: 'data.department' }, ctx);
 * const { rows } = await db.query(q.sql, withFormId(q.params, formId));
 * return { result: shapeResult(rows, q.shape) };
 */
export function compileQuery(query: unknown, ctx: CompileContext): CompiledQuery {
  if (!isPlainObject(query)) throw dslError('query', 'must be an object');
  const unknown = Object.keys(query).find((key) => !QUERY_KEYS.includes(key));
  if (unknown !== undefined)
    throw dslError(unknown, `is not part of a query: use ${QUERY_KEYS.join(', ')}`);
  const params: unknown[] = [FORM_ID_PLACEHOLDER];
  const aggregate = compileAggregate(query.aggregate, query.field, ctx, params);
  const groups = compileGroups(query.group_by, ctx, params);
  const limit = checkLimit(query.limit, groups.length);
  const filter = query.filter === undefined ? 'true' : compileFilter(query.filter, ctx, params);
  const keys = groups.map((group, i) => `${group.key} AS g${i}, `).join('');
  const src = [
    `SELECT r.id AS id, ${keys}${aggregate.input} AS x`,
    `FROM responses r${groups.map((group) => group.join ?? '').join('')}`,
    `WHERE r.form_id = $1 AND NOT r.deleted AND ${filter}`,
  ].join(' ');
  const limitParam = limit === undefined ? '' : `$${params.push(limit)}::integer`;
  const sql = `WITH src AS (${src}) ${selectGroups(groups.length, aggregate, limitParam)}`;
  const shape: ResultShape = {
    levels: groups.length,
    value: aggregate.value,
    limited: limit !== undefined,
  };
  return { sql, params, shape };
}

/** `params` with the form id in place of `FORM_ID_PLACEHOLDER` (a copy). */
export function withFormId(params: readonly unknown[], formId: string): unknown[] {
  if (params[0] !== FORM_ID_PLACEHOLDER) throw new Error('not the parameters of a compiled query');
  return [formId, ...params.slice(1)];
}

function compileAggregate(
  aggregate: unknown,
  field: unknown,
  ctx: CompileContext,
  params: unknown[],
): CompiledAggregate {
  if (typeof aggregate !== 'string' || !(AGGREGATES as readonly string[]).includes(aggregate)) {
    throw dslError('aggregate', `must be one of ${AGGREGATES.join(', ')}`);
  }
  if (aggregate === 'count') {
    if (field !== undefined) throw dslError('field', 'is not taken by count');
    return { input: 'NULL::integer', sql: () => 'count(*)', value: 'number' };
  }
  if (field === undefined) throw dslError('field', `is required by ${aggregate}`);
  const operand = operandOf(resolvePath(field, ctx, 'field'), params);
  return aggregateOf(aggregate as Exclude<Aggregate, 'count'>, operand);
}

function aggregateOf(aggregate: Exclude<Aggregate, 'count'>, operand: Operand): CompiledAggregate {
  const { kind } = operand.target;
  const numeric = kind === 'number' || kind === 'any';
  if (aggregate === 'count_distinct') {
    return { input: distinctInput(operand), sql: (x) => `count(DISTINCT ${x})`, value: 'number' };
  }
  if (numeric) {
    const input = nullableValue(operand, 'number');
    const sql =
      aggregate === 'sum'
        ? (x: string) => `coalesce(sum(${x}), 0)::float8`
        : (x: string) => `${aggregate}(${x})::float8`;
    return { input, sql, value: 'number' };
  }
  const temporal = kind === 'date' || kind === 'datetime' || kind === 'timestamp';
  if (!temporal || aggregate === 'sum' || aggregate === 'avg') {
    const needs = aggregate === 'sum' || aggregate === 'avg' ? 'a number' : 'a number or a date';
    throw dslError('field', `must be ${needs} field for ${aggregate}`);
  }
  const format = kind === 'date' ? 'YYYY-MM-DD' : ISO_MS;
  return {
    input: nullableValue(operand, kind),
    sql: (x) => `to_char(${aggregate}(${x}) AT TIME ZONE 'UTC', '${format}')`,
    value: 'text',
  };
}

/** What makes two values one for count_distinct: numbers by value, instants by instant. */
function distinctInput(operand: Operand): string {
  const { kind } = operand.target;
  if (kind === 'number' || kind === 'date' || kind === 'datetime' || kind === 'timestamp') {
    return nullableValue(operand, kind);
  }
  if (kind === 'boolean' && operand.target.column) return operand.target.column;
  return `NULLIF(${operand.json}, 'null'::jsonb)`;
}

function compileGroups(groupBy: unknown, ctx: CompileContext, params: unknown[]): CompiledGroup[] {
  if (groupBy === undefined) return [];
  if (!Array.isArray(groupBy)) return [compileGroup(groupBy, ctx, params, 'group_by', 0)];
  if (groupBy.length === 0 || groupBy.length > MAX_LEVELS) {
    throw dslError('group_by', `must list 1 to ${MAX_LEVELS} paths`);
  }
  return groupBy.map((spec, i) => compileGroup(spec, ctx, params, atIndex('group_by', i), i));
}

function compileGroup(
  spec: unknown,
  ctx: CompileContext,
  params: unknown[],
  where: string,
  level: number,
): CompiledGroup {
  if (isPlainObject(spec)) return compileDateTrunc(spec, ctx, params, where);
  const operand = operandOf(resolvePath(spec, ctx, where), params);
  const { kind, column } = operand.target;
  if (kind === 'timestamp')
    throw dslError(where, 'is a timestamp: group it with {"date_trunc", "field"}');
  if (column) return { key: `${column}::text` };
  if (kind === 'multiselect') {
    // One row per distinct chosen option: a response counts once under each of its choices.
    const json = operand.json as string;
    const elements = `CASE WHEN jsonb_typeof(${json}) = 'array' THEN ${json} ELSE '[]'::jsonb END`;
    const join = ` LEFT JOIN LATERAL (SELECT DISTINCT e.value FROM jsonb_array_elements_text(${elements}) AS e) AS m${level} ON true`;
    return { key: `m${level}.value`, join };
  }
  // Numbers by value (5 and 5.0 are one group, keyed "5"); anything else by its JSON text.
  const text = operand.text as string;
  return {
    key: `CASE WHEN jsonb_typeof(${operand.json}) = 'number' THEN trim_scale(${text}::numeric)::text ELSE ${text} END`,
  };
}

function compileDateTrunc(
  spec: Record<string, unknown>,
  ctx: CompileContext,
  params: unknown[],
  where: string,
): CompiledGroup {
  const extra = Object.keys(spec).find((key) => key !== 'date_trunc' && key !== 'field');
  if (extra !== undefined) throw dslError(at(where, extra), 'is not part of a date_trunc group');
  const unit = spec.date_trunc;
  if (typeof unit !== 'string' || !(DATE_TRUNC_UNITS as readonly string[]).includes(unit)) {
    throw dslError(at(where, 'date_trunc'), `must be one of ${DATE_TRUNC_UNITS.join(', ')}`);
  }
  const operand = operandOf(resolvePath(spec.field, ctx, at(where, 'field')), params);
  const { kind } = operand.target;
  if (kind !== 'timestamp' && kind !== 'date' && kind !== 'datetime') {
    throw dslError(
      at(where, 'field'),
      'must be submitted_at, updated_at or a date or datetime field',
    );
  }
  // `unit` is one of our own constants, checked above: no user text reaches the SQL.
  const truncated = `date_trunc('${unit}', ${nullableValue(operand, kind)} AT TIME ZONE 'UTC')`;
  return { key: `to_char(${truncated}, '${TRUNC_FORMATS[unit as DateTruncUnit]}')` };
}

function checkLimit(limit: unknown, levels: number): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw dslError('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  if (levels === 0) throw dslError('limit', 'needs a group_by');
  return limit;
}

/** The outer SELECT over `src`: grouped, ordered by key, or by the aggregate when limited. */
function selectGroups(levels: number, aggregate: CompiledAggregate, limitParam: string): string {
  if (levels === 0) return `SELECT ${aggregate.sql('x')} AS value FROM src`;
  const keys = Array.from({ length: levels }, (_, i) => `g${i}`);
  const byKey = (prefix: string) =>
    keys.map((k) => `${prefix}${k} COLLATE "C" NULLS LAST`).join(', ');
  if (!limitParam) {
    return `SELECT ${keys.join(', ')}, ${aggregate.sql('x')} AS value FROM src GROUP BY ${keys.join(', ')} ORDER BY ${byKey('')}`;
  }
  if (levels === 1) {
    return `SELECT g0, ${aggregate.sql('x')} AS value FROM src GROUP BY g0 ORDER BY value DESC NULLS LAST, ${byKey('')} LIMIT ${limitParam}`;
  }
  // The top N of the first level, by the aggregate over each of its responses once.
  const top =
    `SELECT g0, ${aggregate.sql('x')} AS rank FROM (SELECT DISTINCT id, g0, x FROM src) AS d ` +
    `GROUP BY g0 ORDER BY rank DESC NULLS LAST, g0 COLLATE "C" NULLS LAST LIMIT ${limitParam}`;
  const columns = keys.map((k) => `s.${k}`).join(', ');
  return (
    `, top AS (${top}) SELECT ${columns}, ${aggregate.sql('s.x')} AS value ` +
    `FROM src s JOIN top t ON t.g0 IS NOT DISTINCT FROM s.g0 GROUP BY ${columns}, t.rank ` +
    `ORDER BY t.rank DESC NULLS LAST, ${byKey('s.')}`
  );
}

/**
 * Turns the rows of a compiled query into the DSL's `result`: a single value without
 * `group_by`; else objects keyed by group (`"null"` for no value), nested one level per
 * path, in the order of the rows (by key; by the aggregate when limited). Counts, sums and
 * averages become numbers; min/max of dates are ISO strings.
 *
 * @example shapeResult([{ g0: 'IT', value: '450' }], { levels: 1, value: 'number', limited: false }) // {"IT": 450}
 */
export function shapeResult(rows: readonly ResultRow[], shape: ResultShape): QueryResult {
  if (shape.levels === 0) return toValue(rows[0]?.value, shape.value);
  const root: { [group: string]: QueryResult } = {};
  for (const row of rows) {
    let node = root;
    for (let level = 0; level < shape.levels; level++) {
      const key = groupKey(row, level);
      if (level === shape.levels - 1) {
        define(node, key, toValue(row.value, shape.value));
      } else {
        if (!isPlainObject(node[key])) define(node, key, {});
        node = node[key] as { [group: string]: QueryResult };
      }
    }
  }
  return root;
}

function groupKey(row: ResultRow, level: number): string {
  const key = (row as unknown as Record<string, unknown>)[`g${level}`];
  return key === null || key === undefined ? 'null' : String(key);
}

/** Sets an own property even for keys such as `__proto__`. */
function define(node: Record<string, QueryResult>, key: string, value: QueryResult): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

function toValue(value: unknown, kind: ValueKind): number | string | null {
  if (value === null || value === undefined) return null;
  if (kind === 'text') return String(value);
  return typeof value === 'number' ? value : Number(value);
}
