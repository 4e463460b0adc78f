/**
 * The analytics query DSL (DESIGN.md, "Analytics"): a pure compiler from a query or a filter
 * to one parameterised PostgreSQL statement, and the shaping of its rows into a `result`.
 */
export { compileFilter } from './compile-filter.ts';
export { compileQuery, shapeResult, withFormId, FORM_ID_PLACEHOLDER } from './compile-query.ts';
export { checkTimestamp } from './operand.ts';
export { AGGREGATES, DATE_TRUNC_UNITS } from './types.ts';
export type {
  Aggregate,
  AggregateValue,
  AnalyticsQuery,
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
