// Imported from the leaf module rather than `forms/index.ts` so that the compiler stays pure
// (no database, no services) and cannot take part in an import cycle.
import type { Field } from '../../forms/index.ts';

/** The aggregates of the query DSL (DESIGN.md, "Analytics"). */
export const AGGREGATES = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** The periods `group_by: {"date_trunc"}` accepts; weeks start on Monday, all in UTC. */
export const DATE_TRUNC_UNITS = ['hour', 'day', 'week', 'month'] as const;
export type DateTruncUnit = (typeof DATE_TRUNC_UNITS)[number];

/** A path of the DSL: `submitted_at`, `updated_at`, `completed` or `data.<key>`. */
export type QueryPath = string;

/** Groups by a period of a timestamp: `submitted_at`, `updated_at` or a date/datetime field. */
export interface DateTruncGroup {
  date_trunc: DateTruncUnit;
  field: QueryPath;
}

/** One grouping level. */
export type GroupSpec = QueryPath | DateTruncGroup;

/** A path, a period, or a list of up to three of them (nested objects in the result). */
export type GroupBy = GroupSpec | GroupSpec[];

/** A comparison operator under a path. */
export type ComparisonOperator =
  '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$in' | '$nin' | '$exists' | '$contains';

/** The operators of one path: comparisons and `$not` of another operator object. */
export type OperatorObject = { [K in ComparisonOperator]?: unknown } & { $not?: OperatorObject };

/**
 * A filter: paths mapped to a bare value (`$eq`) or an operator object, plus `$and`/`$or`
 * (lists of filters) and `$not` (a filter). Several keys mean AND.
 */
export interface Filter {
  $and?: Filter[];
  $or?: Filter[];
  $not?: Filter;
  [path: string]: unknown;
}

/** What the compiler knows of the form: its fields and the keys of its calculated fields. */
export interface CompileContext {
  fields: readonly Field[];
  calculatedKeys: readonly string[];
  /**
   * Whether a `data.<key>` the form does not know is still a path, untyped like a calculated
   * field (a workspace-wide condition, which no one form defines); otherwise it is an error.
   */
  openKeys?: boolean;
}

/** How the aggregate column of the rows becomes a JSON value. */
export type ValueKind = 'number' | 'text';

/** What `shapeResult` needs to know to turn the rows of a compiled query into its result. */
export interface ResultShape {
  /** How many grouping levels: 0 (a single value) to 3; rows carry them as `g0`..`g2`. */
  levels: number;
  value: ValueKind;
  /** Whether `limit` applied, in which case the rows come in the order of the aggregate. */
  limited: boolean;
}

/** One parameterised SQL statement and how to shape its rows. See `compileQuery` for `$1`. */
export interface CompiledQuery {
  sql: string;
  params: unknown[];
  shape: ResultShape;
}

/** A row of a compiled query: group keys `g0`..`g2` (null: no value) and the aggregate. */
export interface ResultRow {
  g0?: string | null;
  g1?: string | null;
  g2?: string | null;
  value: unknown;
}

/** The `result` of a query: a value, or objects keyed by group, nested one level per path. */
export type AggregateValue = number | string | null;
export type QueryResult = AggregateValue | { [group: string]: QueryResult };
