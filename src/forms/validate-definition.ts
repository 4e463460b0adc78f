import { FIELD_KEY_PATTERN } from './field.ts';
import { patternProblem } from './pattern.ts';
import type { CalculatedField, Field, FieldIssue, FieldType } from './field.ts';

const MAX_FIELDS = 500;
const MAX_PATTERN_LENGTH = 500;
const RATING_SCALE_MIN = 2;
const RATING_SCALE_MAX = 10;

const KEY_RE = new RegExp(FIELD_KEY_PATTERN);

/**
 * Keys no field may take: exports use the first four as their own columns, and
 * `__proto__` would set an object's prototype instead of a property wherever
 * answers are copied with plain assignment.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'id',
  'submitted_at',
  'completed',
  'form_id',
  '__proto__',
]);

const CHOICE_TYPES: ReadonlySet<FieldType> = new Set(['select', 'radio', 'multiselect']);
const MAX_LENGTH_TYPES: ReadonlySet<FieldType> = new Set([
  'text',
  'textarea',
  'email',
  'url',
  'phone',
]);
const PATTERN_TYPES: ReadonlySet<FieldType> = new Set(['text', 'textarea', 'phone']);

/** How `min`/`max` read for a type: a value bound, or a count/length bound. */
const BOUND_KINDS: Partial<Record<FieldType, 'value' | 'count'>> = {
  number: 'value',
  integer: 'value',
  multiselect: 'count',
  text: 'count',
  textarea: 'count',
};

/** Reports one issue about a property of the field being checked. */
type Report = (property: string, message: string) => void;

/**
 * Checks the rules of a form definition that a JSON schema cannot express:
 * key syntax and uniqueness (across fields and calculated fields, reserved
 * names excluded), which properties each type may carry and their ranges,
 * that patterns compile as RE2 (linear-time) expressions, and the field count. The definition is assumed to
 * be shape-checked already (an array of objects with a string key and a
 * known type); other values are reported rather than trusted.
 *
 * @returns one issue per offending place (`fields[2].options`,
 *   `calculated_fields[0].key`, ...), empty when the definition is valid.
 */
export function validateFormDefinition(def: {
  fields: Field[];
  calculated_fields?: CalculatedField[];
}): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (def.fields.length > MAX_FIELDS) {
    issues.push({ field: 'fields', message: `must have at most ${MAX_FIELDS} fields` });
    return issues;
  }
  const seenKeys = new Set<string>();
  def.fields.forEach((field, i) => {
    const at = `fields[${i}]`;
    checkKey(field.key, `${at}.key`, seenKeys, issues);
    checkField(field, (property, message) => {
      issues.push({ field: `${at}.${property}`, message });
    });
  });
  (def.calculated_fields ?? []).forEach((calculated, i) => {
    const at = `calculated_fields[${i}]`;
    checkKey(calculated.key, `${at}.key`, seenKeys, issues);
    if (typeof calculated.logic !== 'object' || calculated.logic === null) {
      issues.push({ field: `${at}.logic`, message: 'must be a json-logic object or array' });
    }
  });
  return issues;
}

function checkKey(key: unknown, at: string, seenKeys: Set<string>, issues: FieldIssue[]): void {
  let message: string | undefined;
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    message = 'must be 1 to 64 letters, digits or underscores, not starting with a digit';
  } else if (RESERVED_KEYS.has(key)) {
    message = `"${key}" is reserved`;
  } else if (seenKeys.has(key)) {
    message = `duplicate key "${key}"`;
  } else {
    seenKeys.add(key);
  }
  if (message !== undefined) issues.push({ field: at, message });
}

function checkField(field: Field, report: Report): void {
  checkOptions(field, report);
  checkBounds(field, report);
  if (field.max_length !== undefined) checkMaxLength(field, report);
  if (field.pattern !== undefined) checkPattern(field, report);
}

function checkOptions(field: Field, report: Report): void {
  const options: unknown = field.options;
  if (!CHOICE_TYPES.has(field.type)) {
    if (options !== undefined) report('options', notAllowed(field.type));
    return;
  }
  if (!Array.isArray(options) || options.length === 0) {
    report('options', 'must be a non-empty list of options');
    return;
  }
  const seen = new Set<string>();
  for (const option of options as unknown[]) {
    if (typeof option !== 'string' || option === '') {
      report('options', 'each option must be a non-empty string');
      return;
    }
    if (seen.has(option)) {
      report('options', `duplicate option "${option}"`);
      return;
    }
    seen.add(option);
  }
}

function checkBounds(field: Field, report: Report): void {
  const min: unknown = field.min;
  const max: unknown = field.max;
  if (min === undefined && max === undefined) return;
  if (field.type === 'rating') {
    checkRatingScale(min, max, report);
    return;
  }
  const kind = BOUND_KINDS[field.type];
  if (kind === undefined) {
    if (min !== undefined) report('min', notAllowed(field.type));
    if (max !== undefined) report('max', notAllowed(field.type));
    return;
  }
  const minOk = checkBound(min, kind, 'min', report);
  const maxOk = checkBound(max, kind, 'max', report);
  if (minOk && maxOk && typeof min === 'number' && typeof max === 'number' && min > max) {
    report('min', 'must not be greater than max');
  }
}

/** Reports a present but bad bound; true when the bound is absent or fine. */
function checkBound(
  bound: unknown,
  kind: 'value' | 'count',
  property: 'min' | 'max',
  report: Report,
): boolean {
  if (bound === undefined) return true;
  if (kind === 'value' && !(typeof bound === 'number' && Number.isFinite(bound))) {
    report(property, 'must be a number');
    return false;
  }
  if (kind === 'count' && !(Number.isInteger(bound) && (bound as number) >= 0)) {
    report(property, 'must be an integer of at least 0');
    return false;
  }
  return true;
}

/** A rating scale always starts at 1; `max` is its top and defaults to 5. */
function checkRatingScale(min: unknown, max: unknown, report: Report): void {
  if (min !== undefined) report('min', 'is not allowed on rating fields (the scale starts at 1)');
  if (max === undefined) return;
  const n = max as number;
  if (!Number.isInteger(n) || n < RATING_SCALE_MIN || n > RATING_SCALE_MAX) {
    report('max', `must be an integer from ${RATING_SCALE_MIN} to ${RATING_SCALE_MAX}`);
  }
}

function checkMaxLength(field: Field, report: Report): void {
  if (!MAX_LENGTH_TYPES.has(field.type)) {
    report('max_length', notAllowed(field.type));
  } else if (!Number.isInteger(field.max_length) || (field.max_length as number) < 1) {
    report('max_length', 'must be a positive integer');
  }
}

function checkPattern(field: Field, report: Report): void {
  const pattern: unknown = field.pattern;
  if (!PATTERN_TYPES.has(field.type)) {
    report('pattern', notAllowed(field.type));
  } else if (typeof pattern !== 'string') {
    report('pattern', 'must be a string');
  } else if (pattern.length > MAX_PATTERN_LENGTH) {
    report('pattern', `must be at most ${MAX_PATTERN_LENGTH} characters`);
  } else {
    const problem = patternProblem(pattern);
    if (problem !== null) report('pattern', problem);
  }
}

function notAllowed(type: FieldType): string {
  return `is not allowed on ${type} fields`;
}
