import { compileFilter } from './compile-filter.ts';
import { isPlainObject } from './errors.ts';
import {
  checkTimestamp,
  parseTimestamp,
  resolveFilterPath,
  type ScalarKind,
  type Target,
} from './operand.ts';
import type { CompileContext } from './types.ts';

/** A response as a predicate reads it: what an event carries (timestamps as ISO strings). */
export interface PredicateResponse {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  completed: boolean;
  submitted_at: string;
  updated_at: string;
}

/** A compiled filter, evaluated in memory: true iff the SQL of the same filter selects it. */
export type ResponsePredicate = (response: PredicateResponse) => boolean;

/** A key the response does not hold (SQL NULL); a symbol, so a read allocates nothing. */
const ABSENT: unique symbol = Symbol('absent');
/** A stored value, as the SQL reads it: absent (SQL NULL) or a JSON value. */
type Read = typeof ABSENT | unknown;
type Test = (response: PredicateResponse) => boolean;

/**
 * Compiles a DSL filter into an in-memory predicate with the semantics of `compileFilter`'s
 * SQL (same type guards, missing/null rules, numeric, byte-wise text and instant
 * comparisons), so that a filter can be checked per event without a query. The filter is
 * validated by `compileFilter` itself first: one grammar, one set of error messages.
 *
 * @throws AppError `invalid_request` naming the offending part (`where.data.age.$gt`).
 * @example compilePredicate({ 'data.age': { $gte: 18 } }, ctx, 'condition')(response)
 */
export function compilePredicate(
  filter: unknown,
  ctx: CompileContext,
  where = 'filter',
): ResponsePredicate {
  compileFilter(filter, ctx, [], where);
  return node(filter as Record<string, unknown>, ctx);
}

function node(filter: Record<string, unknown>, ctx: CompileContext): Test {
  const parts = Object.entries(filter).map(([key, value]): Test => {
    if (key === '$and' || key === '$or') {
      const members = (value as Record<string, unknown>[]).map((item) => node(item, ctx));
      return key === '$and' ? (r) => members.every((m) => m(r)) : (r) => members.some((m) => m(r));
    }
    if (key === '$not') {
      const inner = node(value as Record<string, unknown>, ctx);
      return (r) => !inner(r);
    }
    const target = resolveFilterPath(key, ctx, key);
    const isOps = isPlainObject(value) && Object.keys(value).every((k) => k.startsWith('$'));
    return isOps ? operators(target, value) : equals(target, value);
  });
  return (r) => parts.every((p) => p(r));
}

function operators(target: Target, ops: Record<string, unknown>): Test {
  const parts = Object.entries(ops).map(([op, value]): Test => {
    if (op === '$not') {
      const inner = operators(target, value as Record<string, unknown>);
      return (r) => !inner(r);
    }
    return operator(target, op, value);
  });
  return (r) => parts.every((p) => p(r));
}

function operator(target: Target, op: string, value: unknown): Test {
  switch (op) {
    case '$eq':
      return equals(target, value);
    case '$ne':
      return not(equals(target, value));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return compare(target, op, value);
    case '$in':
      return inList(target, value as unknown[]);
    case '$nin':
      return not(inList(target, value as unknown[]));
    case '$exists':
      return exists(target, value === true);
    default:
      return contains(target, value as string);
  }
}

const not =
  (test: Test): Test =>
  (r) =>
    !test(r);

/** The stored value of a target: a column, or `data -> key` (absent when the key is). */
function read(target: Target, r: PredicateResponse): Read {
  if (target.column === 'r.completed') return r.completed;
  if (target.column === 'r.submitted_at') return r.submitted_at;
  if (target.column === 'r.updated_at') return r.updated_at;
  const key = target.key as string;
  const object = target.source === 'r.metadata' ? r.metadata : r.data;
  return Object.hasOwn(object, key) ? object[key] : ABSENT;
}

/** Missing or JSON null; a column is never either. */
function isNull(target: Target): Test {
  if (target.column) return () => false;
  return (r) => {
    const stored = read(target, r);
    return stored === ABSENT || stored === null;
  };
}

/** A comparable form of a value of `kind`: a number, a string, or an instant in microseconds. */
type Comparable = number | string | boolean | bigint;

const DATE_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const DATETIME_RE =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$/;
const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/;

/** Microseconds since the epoch of an ISO date-time with offset, rounded as PostgreSQL does. */
export function instantMicros(iso: string): bigint {
  const m = INSTANT_RE.exec(iso);
  // Unreachable for values `checkTimestamp` or the SQL guards admitted.
  if (!m) throw new Error(`not an ISO date-time: ${iso}`);
  const n = (i: number) => Number(m[i] ?? 0);
  const date = new Date(0);
  date.setUTCFullYear(n(1), n(2) - 1, n(3));
  date.setUTCHours(n(4), n(5), n(6), 0);
  const sign = m[8] === '-' ? -1 : 1;
  const offsetMs = sign * (n(9) * 60 + n(10)) * 60_000;
  const micros = Math.round(Number(`0.${m[7] ?? '0'}`) * 1e6);
  // A bigint: a year-9999 instant is past 2^53 microseconds.
  return BigInt(date.getTime() - offsetMs) * 1000n + BigInt(micros);
}

/**
 * `instantMicros(`${date}T00:00:00Z`)` of a `YYYY-MM-DD` string, without its regex and Date
 * object: `Date.UTC` rolls a day or month over as `setUTCFullYear` does, and differs only for
 * years 0-99 (which it reads as 1900-1999), left to `instantMicros`.
 */
function dateMicros(date: string): bigint {
  const digits = (from: number, to: number) => {
    let n = 0;
    for (let i = from; i < to; i++) n = n * 10 + date.charCodeAt(i) - 48;
    return n;
  };
  const year = digits(0, 4);
  if (year < 100) return instantMicros(`${date}T00:00:00Z`);
  return BigInt(Date.UTC(year, digits(5, 7) - 1, digits(8, 10))) * 1000n;
}

/** The stored value as `kind` when the SQL guard admits it, else undefined (the test is false). */
function typed(target: Target, kind: ScalarKind, v: Read): Comparable | undefined {
  if (v === ABSENT) return undefined;
  if (target.column) {
    if (kind === 'boolean') return v === true;
    // An event's timestamps are ISO strings; one that is not matches nothing, never throws.
    const timestamp = parseTimestamp(v);
    return timestamp === undefined ? undefined : instantMicros(timestamp);
  }
  switch (kind) {
    case 'number':
      return typeof v === 'number' ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'text':
      return typeof v === 'string' ? v : undefined;
    case 'date':
      return typeof v === 'string' && DATE_RE.test(v) ? dateMicros(v) : undefined;
    default:
      return typeof v === 'string' && DATETIME_RE.test(v) ? instantMicros(v) : undefined;
  }
}

/** A filter value as `kind`, checked as `compileFilter` checked it. */
function param(kind: ScalarKind, value: unknown): Comparable {
  if (kind === 'number' || kind === 'text' || kind === 'boolean') return value as Comparable;
  return instantMicros(checkTimestamp(value, 'value'));
}

/** The kind a value compares as on `target` (a calculated field takes the value's own). */
function kindOf(target: Target, value: unknown): ScalarKind {
  if (target.kind !== 'any' && target.kind !== 'multiselect') return target.kind;
  if (typeof value === 'number') return 'number';
  return typeof value === 'boolean' ? 'boolean' : 'text';
}

/**
 * Text compares byte-wise in UTF-8 (`COLLATE "C"`), which is code point order. UTF-16 code
 * units are in that order too, except that a surrogate (U+D800-DFFF, half of a code point
 * past U+FFFF) must sort after the units U+E000-FFFF: compared unit by unit, allocation-free.
 */
export function order(a: Comparable, b: Comparable): number {
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return 0;
    const length = Math.min(a.length, b.length);
    for (let i = 0; i < length; i++) {
      const x = a.charCodeAt(i);
      const y = b.charCodeAt(i);
      if (x === y) continue;
      if (x >= 0xd800 && y >= 0xd800) return codePointRank(x) - codePointRank(y);
      return x - y;
    }
    return a.length - b.length;
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

/** A code unit's place in code point order among units >= U+D800: surrogates last. */
const codePointRank = (unit: number) => (unit <= 0xdfff ? unit + 0x10000 : unit);

function asArray(stored: Read): unknown[] | undefined {
  return Array.isArray(stored) ? (stored as unknown[]) : undefined;
}

function equals(target: Target, value: unknown): Test {
  if (value === null) return isNull(target);
  if (target.kind === 'multiselect') {
    if (typeof value === 'string') return (r) => asArray(read(target, r))?.includes(value) === true;
    const list = value as string[];
    return (r) => {
      const stored = asArray(read(target, r));
      return (
        stored !== undefined &&
        stored.length === list.length &&
        stored.every((e, i) => e === list[i])
      );
    };
  }
  const kind = kindOf(target, value);
  const p = param(kind, value);
  return (r) => {
    const v = typed(target, kind, read(target, r));
    return v !== undefined && order(v, p) === 0;
  };
}

function compare(target: Target, op: string, value: unknown): Test {
  const kind = kindOf(target, value);
  const p = param(kind, value);
  const holds: (d: number) => boolean =
    op === '$gt'
      ? (d) => d > 0
      : op === '$gte'
        ? (d) => d >= 0
        : op === '$lt'
          ? (d) => d < 0
          : (d) => d <= 0;
  return (r) => {
    const v = typed(target, kind, read(target, r));
    return v !== undefined && holds(order(v, p));
  };
}

function inList(target: Target, list: unknown[]): Test {
  const nullable = list.includes(null) ? isNull(target) : () => false;
  const members = list.filter((v) => v !== null);
  if (target.kind === 'multiselect') {
    const options = new Set(members as string[]);
    return (r) =>
      nullable(r) ||
      asArray(read(target, r))?.some((e) => typeof e === 'string' && options.has(e)) === true;
  }
  // A field of one scalar kind: one typed read and a Set lookup (=== is `order` = 0 there).
  const kind = target.kind;
  if (kind === 'text' || kind === 'number' || kind === 'boolean') {
    const set = new Set(members.map((v) => param(kind, v)));
    return (r) => {
      if (nullable(r)) return true;
      const v = typed(target, kind, read(target, r));
      return v !== undefined && set.has(v);
    };
  }
  const tests = members.map((v) => equals(target, v));
  return (r) => nullable(r) || tests.some((t) => t(r));
}

function exists(target: Target, wanted: boolean): Test {
  if (target.column) return () => wanted;
  return (r) => (read(target, r) !== ABSENT) === wanted;
}

function contains(target: Target, needle: string): Test {
  return (r) => {
    const v = read(target, r);
    if (typeof v === 'string' && target.kind !== 'multiselect') return v.includes(needle);
    if (Array.isArray(v) && target.kind !== 'text') return v.includes(needle);
    return false;
  };
}
