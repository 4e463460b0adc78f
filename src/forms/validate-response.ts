import type { Field, FieldIssue, FieldType } from './field.ts';
import { compilePattern, type FieldPattern } from './pattern.ts';

/** How one response is validated. */
export interface ResponseValidationOptions {
  /** A completed response must answer every required field; a partial one need not. */
  completed: boolean;
}

/** Validates one response's `data` against the form it was compiled for. */
export type ResponseValidator = (
  data: Record<string, unknown>,
  opts: ResponseValidationOptions,
) => FieldIssue[];

/** A field prepared for validation; every rule has the same shape. */
interface Rule {
  readonly key: string;
  readonly required: boolean;
  readonly emptyIsBlank: boolean; // `''` counts as not answered (text-like types)
  readonly check: Check;
  readonly min: number; // see bounds()
  readonly max: number;
  readonly format: StringFormat | undefined;
  readonly pattern: FieldPattern | undefined;
  readonly options: ReadonlySet<string>;
  readonly optionList: string; // the options as messages list them, cut after ten
}

/** Returns the message for a bad answered value, or undefined when it is fine. */
type Check = (value: unknown, rule: Rule) => string | undefined;

/** The shape a string type requires beyond its length. */
interface StringFormat {
  readonly test: (value: string) => boolean;
  readonly message: string;
  readonly maxLength?: number; // the format's own limit, on top of `max_length`
}

const LISTED_OPTIONS = 10;
const NO_OPTIONS: ReadonlySet<string> = new Set();

const EMAIL_RE = /^[^\s@]+@(?:[^\s@.]+\.)+[^\s@.]+$/;
const URL_RE = /^https?:\/\/\S+$/i;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** Offsets up to +-14:00 (DESIGN.md 3a): PostgreSQL refuses wider ones in timestamptz. */
const DATETIME_RE =
  /^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))$/;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const PATTERN_TYPES: ReadonlySet<FieldType> = new Set(['text', 'textarea', 'phone']);

const STRING_FORMATS: Partial<Record<FieldType, StringFormat>> = {
  email: {
    test: (value) => EMAIL_RE.test(value),
    message: 'must be a valid email address',
    maxLength: 254,
  },
  url: {
    // URL_RE first: the URL parser would quietly strip spaces and line breaks.
    test: (value) => URL_RE.test(value) && URL.canParse(value),
    message: 'must be a valid http(s) URL',
    maxLength: 2048,
  },
  phone: { test: isPhone, message: 'must be a valid phone number' },
};

/**
 * Prepares a validator for one form, to be reused for every response to it
 * (a bulk import compiles once and validates each row). Issues come in form
 * order, then unknown and calculated keys in the order of `data`; there is at
 * most one issue per key. Values are only checked, never transformed.
 *
 * A `pattern` RE2 cannot run (only in a form saved before patterns moved to RE2)
 * matches nothing: such answers are refused with 422, never a 500, until the
 * form is saved again with an RE2 pattern.
 */
export function compileValidator(
  fields: readonly Field[],
  calculatedKeys: readonly string[],
): ResponseValidator {
  const rules = fields.map(compileRule);
  const fieldKeys = new Set(fields.map((field) => field.key));
  const calculated = new Set(calculatedKeys);
  return (data, opts) => {
    const issues: FieldIssue[] = [];
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as Rule;
      // hasOwn: keys such as `constructor` are valid field keys.
      const value = Object.hasOwn(data, rule.key) ? data[rule.key] : undefined;
      if (value === undefined || value === null || (value === '' && rule.emptyIsBlank)) {
        if (opts.completed && rule.required)
          issues.push({ field: rule.key, message: 'is required' });
        continue;
      }
      const message = rule.check(value, rule);
      if (message !== undefined) issues.push({ field: rule.key, message });
    }
    for (const key in data) {
      if (!Object.hasOwn(data, key) || fieldKeys.has(key)) continue;
      const message = calculated.has(key) ? 'is calculated and cannot be set' : 'unknown field';
      issues.push({ field: key, message });
    }
    return issues;
  };
}

/**
 * Validates one response's `data` (see `compileValidator`, which this
 * compiles on every call: prefer it when validating many responses).
 *
 * @returns one issue per bad key, `field` being the data key; empty when valid.
 */
export function validateResponseData(
  fields: readonly Field[],
  calculatedKeys: readonly string[],
  data: Record<string, unknown>,
  opts: ResponseValidationOptions,
): FieldIssue[] {
  return compileValidator(fields, calculatedKeys)(data, opts);
}

function compileRule(field: Field): Rule {
  const { type, pattern } = field;
  const options = field.options ?? [];
  const format = STRING_FORMATS[type];
  return {
    key: field.key,
    required: field.required === true,
    emptyIsBlank: type === 'text' || type === 'textarea' || format !== undefined,
    check: CHECKS[type],
    ...bounds(field),
    format,
    pattern: pattern !== undefined && PATTERN_TYPES.has(type) ? patternOrNone(pattern) : undefined,
    options: options.length > 0 ? new Set(options) : NO_OPTIONS,
    optionList:
      options.slice(0, LISTED_OPTIONS).join(', ') +
      (options.length > LISTED_OPTIONS ? ', ...' : ''),
  };
}

/** The compiled pattern, or one that matches nothing (see compileValidator). */
function patternOrNone(pattern: string): FieldPattern {
  try {
    return compilePattern(pattern);
  } catch {
    return MATCHES_NOTHING;
  }
}

const MATCHES_NOTHING: FieldPattern = { test: () => false };

/** min/max of a rule: a value, a length in code points, a choice count, or a rating scale. */
function bounds(field: Field): { min: number; max: number } {
  const { type, min, max, max_length: maxLength = Infinity } = field;
  if (type === 'number' || type === 'integer') {
    return { min: min ?? -Infinity, max: max ?? Infinity };
  }
  if (type === 'rating') return { min: 1, max: max ?? 5 };
  const formatMax = STRING_FORMATS[type]?.maxLength ?? Infinity;
  return { min: min ?? 0, max: Math.min(max ?? Infinity, maxLength, formatMax) };
}

/** text, textarea, email, url, phone: length, then format, then pattern. */
const checkString: Check = (value, rule) => {
  if (typeof value !== 'string') return 'must be a string';
  const badLength = checkLength(value, rule);
  if (badLength !== undefined) return badLength;
  if (rule.format !== undefined && !rule.format.test(value)) return rule.format.message;
  if (rule.pattern !== undefined && !rule.pattern.test(value))
    return 'must match the expected format';
  return undefined;
};

const checkChoice: Check = (value, rule) =>
  typeof value === 'string' && rule.options.has(value)
    ? undefined
    : `must be one of: ${rule.optionList}`;

const CHECKS: Readonly<Record<FieldType, Check>> = {
  text: checkString,
  textarea: checkString,
  email: checkString,
  url: checkString,
  phone: checkString,
  number: (value, rule) =>
    typeof value === 'number' && Number.isFinite(value)
      ? checkRange(value, rule)
      : 'must be a number',
  integer: (value, rule) =>
    Number.isInteger(value) ? checkRange(value as number, rule) : 'must be an integer',
  boolean: (value) => (typeof value === 'boolean' ? undefined : 'must be true or false'),
  date: (value) =>
    typeof value === 'string' && DATE_RE.test(value) && isCalendarDate(value)
      ? undefined
      : 'must be a valid date (YYYY-MM-DD)',
  datetime: (value) =>
    typeof value === 'string' && DATETIME_RE.test(value) && isCalendarDate(value)
      ? undefined
      : 'must be a valid date-time with a timezone (e.g. 2026-11-28T10:00:00Z)',
  select: checkChoice,
  radio: checkChoice,
  multiselect: checkMultiselect,
  rating: (value, rule) =>
    Number.isInteger(value) && (value as number) >= 1 && (value as number) <= rule.max
      ? undefined
      : `must be an integer from 1 to ${rule.max}`,
};

function checkMultiselect(value: unknown, rule: Rule): string | undefined {
  if (!Array.isArray(value)) return 'must be a list of choices';
  const choices: readonly unknown[] = value;
  for (let i = 0; i < choices.length; i++) {
    const choice = choices[i];
    if (typeof choice !== 'string' || !rule.options.has(choice)) {
      return `each choice must be one of: ${rule.optionList}`;
    }
  }
  if (hasDuplicate(choices as readonly string[], rule.options.size)) {
    return 'must not repeat a choice';
  }
  if (choices.length < rule.min) return `must have at least ${choiceCount(rule.min)}`;
  if (choices.length > rule.max) return `must have at most ${choiceCount(rule.max)}`;
  return undefined;
}

function checkRange(value: number, rule: Rule): string | undefined {
  if (value < rule.min) return `must be at least ${rule.min}`;
  if (value > rule.max) return `must be at most ${rule.max}`;
  return undefined;
}

/** Bounds the length in code points, counting them only when it can matter. */
function checkLength(value: string, rule: Rule): string | undefined {
  // A string has between length/2 and length code points.
  if (value.length <= rule.max && Math.ceil(value.length / 2) >= rule.min) return undefined;
  const length = codePointLength(value);
  if (length < rule.min) return `must be at least ${rule.min} characters`;
  if (length > rule.max) return `must be at most ${rule.max} characters`;
  return undefined;
}

function codePointLength(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** 7 to 20 characters: digits (at least 7), spaces, `( ) - .`, and a leading `+`. */
function isPhone(value: string): boolean {
  if (value.length < 7 || value.length > 20) return false;
  let digits = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c === 0x2b) {
      if (i !== 0) return false;
    } else if (c !== 0x20 && c !== 0x28 && c !== 0x29 && c !== 0x2d && c !== 0x2e) return false;
  }
  return digits >= 7;
}

/** Reads the `YYYY-MM-DD` that starts the value (its shape already checked). */
function isCalendarDate(value: string): boolean {
  const year = readDigits(value, 0, 4);
  const month = readDigits(value, 5, 2);
  const day = readDigits(value, 8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] ?? 0);
  return year >= 1 && day >= 1 && day <= days;
}

function readDigits(value: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) n = n * 10 + value.charCodeAt(i) - 0x30;
  return n;
}

/** Whether the (valid) choices repeat one; there are at most `distinct` kinds. */
function hasDuplicate(choices: readonly string[], distinct: number): boolean {
  if (choices.length > distinct) return true;
  if (choices.length > 16) return new Set(choices).size !== choices.length;
  for (let i = 1; i < choices.length; i++) {
    if (choices.lastIndexOf(choices[i] as string, i - 1) !== -1) return true;
  }
  return false;
}

function choiceCount(n: number): string {
  return n === 1 ? '1 choice' : `${n} choices`;
}
