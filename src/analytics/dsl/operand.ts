import type { FieldType } from '../../forms/index.ts';
import { dslError } from './errors.ts';
import type { CompileContext } from './types.ts';

/** What a path holds, as the compiler compares it; `any` is a calculated field (untyped). */
export type Kind =
  'number' | 'text' | 'boolean' | 'date' | 'datetime' | 'multiselect' | 'any' | 'timestamp';
/** How one value compares: a calculated field takes the kind of the value it is compared with. */
export type ScalarKind = Exclude<Kind, 'multiselect' | 'any'>;

/** A resolved path: a column of `responses`, or a key of `data` known to the form. */
export interface Target {
  path: string;
  kind: Kind;
  column?: 'r.submitted_at' | 'r.updated_at' | 'r.completed';
  key?: string;
  /** The JSON column `key` is of: `r.data` unless told. */
  source?: 'r.data' | 'r.metadata';
}

/**
 * A target bound into one statement. For a data path, `json`/`text` are `r.data -> $k` and
 * `r.data ->> $k`; for a column they are undefined (use `target.column`).
 */
export interface Operand {
  target: Target;
  params: unknown[];
  json?: string;
  text?: string;
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const COLUMNS: Record<string, Target> = {
  submitted_at: { path: 'submitted_at', kind: 'timestamp', column: 'r.submitted_at' },
  updated_at: { path: 'updated_at', kind: 'timestamp', column: 'r.updated_at' },
  completed: { path: 'completed', kind: 'boolean', column: 'r.completed' },
};
const FIELD_KINDS: Record<FieldType, Kind> = {
  text: 'text',
  textarea: 'text',
  email: 'text',
  url: 'text',
  phone: 'text',
  select: 'text',
  radio: 'text',
  number: 'number',
  integer: 'number',
  rating: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
  multiselect: 'multiselect',
};
// SQL guards: only well-formed stored values reach a cast (data is validated on write;
// this keeps a stray value from failing the whole query). The offset stops at 15:59, the
// widest PostgreSQL reads: a stored "+23:00" would otherwise fail every query over the field.
const SQL_DATE_RE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const SQL_DATETIME_RE =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$';

/**
 * Resolves a path of a filter: those of `resolvePath`, and `metadata.<key>`, a key of the
 * response's free-form metadata, untyped like a calculated field (DESIGN.md section 4a).
 */
export function resolveFilterPath(path: unknown, ctx: CompileContext, where: string): Target {
  if (typeof path === 'string' && path.startsWith('metadata.')) {
    const key = path.slice('metadata.'.length);
    if (!KEY_RE.test(key)) throw dslError(where, 'is not a metadata key (letters, digits, _)');
    return { path, kind: 'any', key, source: 'r.metadata' };
  }
  return resolvePath(path, ctx, where);
}

/** Resolves a DSL path against the form; unknown paths and keys are a 400 at `where`. */
export function resolvePath(path: unknown, ctx: CompileContext, where: string): Target {
  if (typeof path !== 'string')
    throw dslError(where, 'must be a path (submitted_at, updated_at, completed or data.<key>)');
  const column = Object.hasOwn(COLUMNS, path) ? COLUMNS[path] : undefined;
  if (column) return column;
  if (!path.startsWith('data.'))
    throw dslError(where, 'is not a path: use submitted_at, updated_at, completed or data.<key>');
  const key = path.slice('data.'.length);
  const field = KEY_RE.test(key) ? ctx.fields.find((f) => f.key === key) : undefined;
  if (field) return { path, kind: FIELD_KINDS[field.type], key };
  if (KEY_RE.test(key) && (ctx.calculatedKeys.includes(key) || ctx.openKeys === true))
    return { path, kind: 'any', key };
  throw dslError(where, 'is not a field of this form');
}

/** Pushes `value` and returns its placeholder, cast (`$3::numeric`). */
export function bind(params: unknown[], value: unknown, cast: string): string {
  params.push(value);
  return `$${params.length}::${cast}`;
}

/**
 * Binds a target into a statement: a data key becomes a parameter, never SQL text. The key
 * is bound on first use, so that a predicate that turns out constant (`$in: []`) leaves no
 * unused parameter behind (PostgreSQL refuses those).
 */
export function operandOf(target: Target, params: unknown[]): Operand {
  if (target.column) return { target, params };
  let key: string | undefined;
  const keyParam = () => (key ??= bind(params, target.key, 'text'));
  return {
    target,
    params,
    get json() {
      return `(${target.source ?? 'r.data'} -> ${keyParam()})`;
    },
    get text() {
      return `(${target.source ?? 'r.data'} ->> ${keyParam()})`;
    },
  };
}

/** The SQL value of an operand as `kind`, and the guard under which it is of that kind. */
export function typedValue(operand: Operand, kind: ScalarKind): { guard?: string; value: string } {
  if (operand.target.column) return { value: operand.target.column };
  const { json, text } = operand as Required<Operand>;
  const jsonType = (type: string) => `jsonb_typeof(${json}) = '${type}'`;
  switch (kind) {
    case 'number':
      return { guard: jsonType('number'), value: `${text}::numeric` };
    case 'boolean':
      return { guard: jsonType('boolean'), value: `${text}::boolean` };
    case 'text':
      return { guard: jsonType('string'), value: text };
    case 'date':
      return {
        guard: `${jsonType('string')} AND ${text} ~ '${SQL_DATE_RE}'`,
        value: `(${text} || 'T00:00:00Z')::timestamptz`,
      };
    default:
      return {
        guard: `${jsonType('string')} AND ${text} ~ '${SQL_DATETIME_RE}'`,
        value: `${text}::timestamptz`,
      };
  }
}

/** The value of an operand as `kind`, NULL where it is missing, null or of another type. */
export function nullableValue(operand: Operand, kind: ScalarKind): string {
  const { guard, value } = typedValue(operand, kind);
  return guard ? `(CASE WHEN ${guard} THEN ${value} END)` : value;
}

/** How `value` compares on `target`: its field's kind, or the value's own for a calculated field. */
export function scalarKindOf(target: Target, value: unknown, where: string): ScalarKind {
  if (target.kind === 'multiselect') throw dslError(where, 'must be an option (a string)');
  if (target.kind !== 'any') return target.kind;
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return 'boolean';
  throw dslError(where, 'must be a number, a string, a boolean or null');
}

/** Checks a value against a kind and returns it as the parameter to bind. */
export function checkScalar(kind: ScalarKind, value: unknown, where: string): unknown {
  if (kind === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw dslError(where, 'must be a number');
    return value;
  }
  if (kind === 'text') {
    if (typeof value !== 'string') throw dslError(where, 'must be a string');
    return checkText(value, where);
  }
  if (kind === 'boolean') {
    if (typeof value !== 'boolean') throw dslError(where, 'must be true or false');
    return value;
  }
  return checkTimestamp(value, where);
}

/** A surrogate without its pair: it cannot reach PostgreSQL as text or JSON (nor can U+0000). */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string value of a filter, refused (400) when it holds U+0000 or an unpaired surrogate. */
export function checkText(value: string, where: string): string {
  if (value.includes('\u0000') || LONE_SURROGATE_RE.test(value)) {
    throw dslError(where, 'must not contain U+0000 or an unpaired surrogate');
  }
  return value;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * `YYYY-MM-DD` or an ISO 8601 date-time of years 1-9999 with an offset of at most +-14:00
 * (the widest in use), with an explicit offset added (a date is midnight UTC, a date-time
 * without one is UTC); undefined for anything else. Pure: the one check of every date a
 * client sends (filters, `since`/`until`, cursors).
 *
 * @example parseTimestamp('2026-11-28') // '2026-11-28T00:00:00Z'
 */
export function parseTimestamp(value: unknown): string | undefined {
  const match = typeof value === 'string' ? TIMESTAMP_RE.exec(value) : null;
  if (!match || typeof value !== 'string' || !inRange(match)) return undefined;
  if (match[4] === undefined) return `${value}T00:00:00Z`;
  return match[7] === undefined ? `${value}Z` : value;
}

/**
 * Validates `YYYY-MM-DD` or an ISO 8601 date-time (years 1-9999, offsets up to +-14:00) and
 * returns it with an explicit offset (a date is midnight UTC; a date-time without offset is
 * UTC), so that PostgreSQL reads the same instant whatever the session's time zone.
 */
export function checkTimestamp(value: unknown, where: string): string {
  const timestamp = parseTimestamp(value);
  if (timestamp === undefined) {
    throw dslError(
      where,
      'must be a date (YYYY-MM-DD) or an ISO 8601 date-time, years 1-9999, offsets up to +-14:00',
    );
  }
  return timestamp;
}

function inRange(match: RegExpExecArray): boolean {
  const n = (i: number) => Number(match[i] ?? 0);
  const [year, month, day] = [n(1), n(2), n(3)];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  const dateOk = year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= days;
  const offsetOk = n(8) < 14 ? n(9) <= 59 : n(8) === 14 && n(9) === 0;
  return dateOk && n(4) <= 23 && n(5) <= 59 && n(6) <= 59 && offsetOk;
}
