/**
 * The analytics query DSL (DESIGN.md, "Analytics"): a pure compiler from a query or a filter
 * to one parameterised PostgreSQL statement, and the shaping of its rows into a `result`.
 *
 * Choices where DESIGN.md is silent:
 * - Missing fields follow MongoDB: `$ne`/`$nin` match them, `$eq: null` matches missing or
 *   null, `$exists: true` matches a key that is present even when null, comparisons never
 *   match missing, null or a value of another JSON type.
 * - Numbers compare numerically (5 = 5.0), text byte-wise (`COLLATE "C"`), dates, date-times,
 *   `submitted_at` and `updated_at` as instants (a date is midnight UTC, a date-time without
 *   offset is UTC). A calculated field is untyped: it compares as the type of the value given.
 * - Multiselect: `$eq`/`$contains` with a string and `$in` test elements; `$eq` with a list
 *   tests the whole (ordered) list; `count_distinct` counts distinct whole lists.
 * - group_by a multiselect counts a response once under each chosen option; no choice (or an
 *   empty list) groups under "null". Numbers group by value ("5" for 5 and 5.0).
 * - `limit` keeps the top N groups by the aggregate (ties by key); with nested paths it ranks
 *   the first level by the aggregate over each of its responses once and keeps all of their
 *   sub-groups. Without `limit`, groups come by key (byte order), "null" last; note that
 *   JavaScript objects list integer-like keys ("1", "2") first whatever the order.
 * - `sum` of nothing is 0; `avg`, `min`, `max` of nothing are null; min/max of a date field
 *   answer `YYYY-MM-DD`, of a date-time or timestamp an ISO string in UTC with milliseconds.
 */
export { compileFilter } from './compile-filter.ts';
export { compilePredicate } from './filter-predicate.ts';
export type { PredicateResponse, ResponsePredicate } from './filter-predicate.ts';
export { compileQuery, shapeResult, withFormId, FORM_ID_PLACEHOLDER } from './compile-query.ts';
export { checkText, checkTimestamp, parseTimestamp } from './operand.ts';
export { MAX_DEPTH, MAX_LIST, MAX_PREDICATES } from './compile-filter.ts';
export { AGGREGATES, DATE_TRUNC_UNITS } from './types.ts';
export type {
  Aggregate,
  AggregateValue,
  CompileContext,
  CompiledQuery,
  ComparisonOperator,
  DateTruncGroup,
  DateTruncUnit,
  Filter,
  GroupBy,
  GroupSpec,
  OperatorObject,
  QueryPath,
  QueryResult,
  ResultRow,
  ResultShape,
  ValueKind,
} from './types.ts';
