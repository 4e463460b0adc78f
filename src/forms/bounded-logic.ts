/**
 * A json-logic interpreter with an operation budget (DESIGN.md 3a, calculated fields).
 *
 * json-logic-js evaluates without bound: three nested `map`s over literal lists blocked the
 * event loop 3.3 s, and a `reduce` that merges its accumulator with itself doubles it per
 * element (a 24-byte body built a 16 MiB answer). This interpreter keeps json-logic-js's
 * semantics (it is the oracle of the unit tests) but charges every step: one unit per node
 * evaluated, plus the size of every string or list an operator reads or builds (a string
 * costs one unit per 64 characters, a list one per element). Past the budget it throws
 * LogicBudgetError, so any expression, on any data, stops after a bounded amount of work.
 * Recursion follows the expression, whose depth the caller bounds (see logic-limits.ts).
 */

/** Units one evaluation may spend: a few milliseconds of work (the unit tests time it). */
export const LOGIC_BUDGET = 20_000;

/** Thrown when an evaluation spends its whole budget. */
export class LogicBudgetError extends Error {
  constructor() {
    super(`needs more than ${LOGIC_BUDGET} operations to compute`);
    this.name = 'LogicBudgetError';
  }
}

/** Thrown for an operator json-logic does not have (checked again at form save). */
export class UnknownOperatorError extends Error {}

const CHARS_PER_UNIT = 64;

type Values = readonly unknown[];
type Operator = (args: Values, data: unknown, meter: Meter) => unknown;

/** Counts what an evaluation spends. */
class Meter {
  private left: number;

  constructor(budget: number) {
    this.left = budget;
  }

  charge(units: number): void {
    this.left -= units;
    if (this.left < 0) throw new LogicBudgetError();
  }

  /** Charges for reading or building `value`: strings by length, lists by their elements. */
  chargeSize(value: unknown): void {
    if (typeof value === 'string') this.charge(Math.ceil(value.length / CHARS_PER_UNIT));
    else if (Array.isArray(value)) {
      this.charge(value.length);
      // A list's string form (cat, ==, +) reads its nested lists and strings too.
      for (const item of value)
        if (typeof item === 'string' || Array.isArray(item)) this.chargeSize(item);
    }
  }
}

/** json-logic truthiness: an empty list is false, everything else as in JavaScript. */
export function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

/** Whether a value is an operator application: an object with exactly one key. */
export function isLogic(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1
  );
}

/**
 * Evaluates `logic` over `data` as json-logic-js 2.0 does, within `budget` units.
 *
 * @throws LogicBudgetError past the budget; UnknownOperatorError for an unknown operator.
 * @example evaluateLogic({ '+': [{ var: 'a' }, 1] }, { a: 1 }); // 2
 */
export function evaluateLogic(logic: unknown, data: unknown, budget = LOGIC_BUDGET): unknown {
  return evaluate(logic, data, new Meter(budget));
}

function evaluate(logic: unknown, data: unknown, meter: Meter): unknown {
  meter.charge(1);
  if (Array.isArray(logic)) {
    meter.charge(logic.length);
    return logic.map((item: unknown) => evaluate(item, data, meter));
  }
  if (!isLogic(logic)) return logic;
  const op = Object.keys(logic)[0] as string;
  const raw = logic[op];
  const args: Values = Array.isArray(raw) ? raw : [raw];
  const special = SPECIAL[op];
  if (special !== undefined) return special(args, data, meter);
  const plain = PLAIN[op];
  if (plain === undefined) throw new UnknownOperatorError(`Unrecognized operation ${op}`);
  const values = args.map((arg) => evaluate(arg, data, meter));
  for (const value of values) meter.chargeSize(value);
  const result = plain(values, data, meter);
  meter.chargeSize(result);
  return result;
}

/** The list a scoped operator iterates over, or undefined when it is not a list. */
function scope(args: Values, data: unknown, meter: Meter): unknown[] | undefined {
  const list = evaluate(args[0], data, meter);
  return Array.isArray(list) ? list : undefined;
}

/** Operators that decide what to evaluate: conditionals and the scoped list operators. */
const SPECIAL: Readonly<Record<string, Operator>> = {
  if: conditional,
  '?:': conditional,
  and: (args, data, meter) => {
    let current: unknown;
    for (const arg of args) {
      current = evaluate(arg, data, meter);
      if (!truthy(current)) return current;
    }
    return current;
  },
  or: (args, data, meter) => {
    let current: unknown;
    for (const arg of args) {
      current = evaluate(arg, data, meter);
      if (truthy(current)) return current;
    }
    return current;
  },
  filter: (args, data, meter) =>
    scope(args, data, meter)?.filter((item) => truthy(evaluate(args[1], item, meter))) ?? [],
  map: (args, data, meter) =>
    scope(args, data, meter)?.map((item) => evaluate(args[1], item, meter)) ?? [],
  reduce: (args, data, meter) => {
    const list = scope(args, data, meter);
    const initial = args[2] !== undefined ? evaluate(args[2], data, meter) : null;
    if (list === undefined) return initial;
    return list.reduce<unknown>((accumulator, current) => {
      const next = evaluate(args[1], { current, accumulator }, meter);
      meter.chargeSize(next);
      return next;
    }, initial);
  },
  all: (args, data, meter) => {
    const list = scope(args, data, meter);
    return (
      list !== undefined &&
      list.length > 0 &&
      list.every((item) => truthy(evaluate(args[1], item, meter)))
    );
  },
  none: (args, data, meter) =>
    !(scope(args, data, meter) ?? []).some((item) => truthy(evaluate(args[1], item, meter))),
  some: (args, data, meter) =>
    (scope(args, data, meter) ?? []).some((item) => truthy(evaluate(args[1], item, meter))),
};

function conditional(args: Values, data: unknown, meter: Meter): unknown {
  let i = 0;
  for (; i < args.length - 1; i += 2) {
    if (truthy(evaluate(args[i], data, meter))) return evaluate(args[i + 1], data, meter);
  }
  return args.length === i + 1 ? evaluate(args[i], data, meter) : null;
}

/** Operators over evaluated arguments, as json-logic-js defines them. */
const PLAIN: Readonly<Record<string, Operator>> = {
  '==': ([a, b]) => a == b,
  '===': ([a, b]) => a === b,
  '!=': ([a, b]) => a != b,
  '!==': ([a, b]) => a !== b,
  '>': ([a, b]) => (a as number) > (b as number),
  '>=': ([a, b]) => (a as number) >= (b as number),
  '<': ([a, b, c]) =>
    c === undefined
      ? (a as number) < (b as number)
      : (a as number) < (b as number) && (b as number) < (c as number),
  '<=': ([a, b, c]) =>
    c === undefined
      ? (a as number) <= (b as number)
      : (a as number) <= (b as number) && (b as number) <= (c as number),
  '!!': ([a]) => truthy(a),
  '!': ([a]) => !truthy(a),
  '%': ([a, b]) => (a as number) % (b as number),
  // json-logic-js logs to the console; a client's expression must not write to our logs.
  log: ([a]) => a,
  // As json-logic-js: an empty string (falsy) contains nothing, not even ''.
  in: ([a, b]) =>
    typeof b === 'string'
      ? b !== '' && b.indexOf(a as string) !== -1
      : Array.isArray(b) && b.indexOf(a) !== -1,
  cat: (args) => args.join(''),
  substr: ([source, start, end]) => {
    const text = String(source);
    if ((end as number) < 0) {
      const temp = text.substr(start as number);
      return temp.substr(0, temp.length + (end as number));
    }
    return text.substr(start as number, end as number);
  },
  '+': (args) => args.reduce<number>((a, b) => parseFloat(String(a)) + parseFloat(String(b)), 0),
  '*': (args) =>
    args.length === 0
      ? undefined
      : args.reduce((a, b) => parseFloat(String(a)) * parseFloat(String(b))),
  '-': ([a, b]) => (b === undefined ? -(a as number) : (a as number) - (b as number)),
  '/': ([a, b]) => (a as number) / (b as number),
  min: (args) => Math.min(...(args as number[])),
  max: (args) => Math.max(...(args as number[])),
  merge: (args) => args.reduce<unknown[]>((a, b) => a.concat(b), []),
  var: ([name, fallback], data, meter) =>
    lookup(data, name, fallback === undefined ? null : fallback, meter),
  missing: (args, data, meter) => missing(args, data, meter),
  missing_some: ([need, options], data, meter) => {
    const keys = Array.isArray(options) ? options : [];
    const absent = missing([keys], data, meter);
    return keys.length - absent.length >= (need as number) ? [] : absent;
  },
};

/** `var`: a dotted path into the data; only own properties (never a prototype's). */
function lookup(data: unknown, name: unknown, notFound: unknown, meter: Meter): unknown {
  if (name === undefined || name === '' || name === null) return data;
  const path = String(name);
  // Splitting allocates a string per dot: charged per character, not per 64.
  meter.charge(Math.ceil(path.length / 8));
  let value: unknown = data;
  for (const part of path.split('.')) {
    if (value === null || value === undefined) return notFound;
    value = Object.hasOwn(Object(value), part)
      ? (value as Record<string, unknown>)[part]
      : undefined;
    if (value === undefined) return notFound;
  }
  return value;
}

function missing(args: Values, data: unknown, meter: Meter): unknown[] {
  const keys: Values = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return keys.filter((key) => {
    // json-logic-js looks each key up as `{var: key}`, so a list key is var's own arguments.
    const [name, fallback] = Array.isArray(key) ? key : [key];
    const value = lookup(data, name, fallback === undefined ? null : fallback, meter);
    return value === null || value === '';
  });
}

/** Every operator name the interpreter knows. */
export const LOGIC_OPERATORS: ReadonlySet<string> = new Set([
  ...Object.keys(SPECIAL),
  ...Object.keys(PLAIN),
]);
