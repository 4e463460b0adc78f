/**
 * Bounded, iterative walks over JSON that came from a client. Nothing here recurses, so a
 * value nested 10,000 levels deep (which `JSON.parse` accepts and `JSON.stringify` then
 * overflows the stack on) is measured, not crashed on; every walk stops as soon as it
 * knows its answer, so its cost is bounded by the limit it checks, not by the input.
 */

/**
 * Deeper client JSON (bodies, query strings, import rows) is refused before anything else
 * reads it, so every later walk (validation, hashing, `JSON.stringify` on the way to the
 * database) stays far from the stack limit. The deepest legitimate body, a calculated
 * field's 32-level expression inside a form, needs 35.
 */
export const MAX_INPUT_DEPTH = 64;

/** Where in a JSON value: object keys and array indexes from the root. */
export type JsonPath = readonly (string | number)[];

/** A string (or object key) the database cannot store, and where it is. */
export interface TextProblem {
  path: JsonPath;
  message: string;
}

/** What `measureJson` found, each figure capped just past its limit. */
export interface JsonMeasure {
  /** Levels of nesting: 0 for a scalar, 1 for `{}` or `[]`, and so on. */
  depth: number;
  /** The size of `JSON.stringify(value)` in UTF-8 bytes. */
  bytes: number;
}

/**
 * Why a string cannot be stored, or null: PostgreSQL refuses U+0000 in text and jsonb, and
 * an unpaired surrogate is not Unicode (it cannot be encoded as UTF-8).
 *
 * @example textProblem('a\u0000b'); // 'must not contain U+0000 (NUL)'
 */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    return 'must not contain an unpaired surrogate (it is not valid Unicode)';
  }
  return null;
}

/**
 * The first string or object key that `textProblem` refuses, or the place where the value
 * is nested deeper than `maxDepth` (a bound for every later walk), or null.
 *
 * @example findTextProblem({ a: ['ok', 'x\u0000'] }, 64); // { path: ['a', 1], message: 'must not contain U+0000 (NUL)' }
 */
export function findTextProblem(value: unknown, maxDepth: number): TextProblem | null {
  // Each entry links to its parent: a path is built only for the one place reported.
  const stack: Place[] = [{ value, key: null, parent: null, depth: 0 }];
  for (let place = stack.pop(); place !== undefined; place = stack.pop()) {
    const node = place.value;
    if (typeof node === 'string') {
      const message = textProblem(node);
      if (message !== null) return { path: pathOf(place), message };
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const depth = place.depth + 1;
    if (depth > maxDepth)
      return { path: pathOf(place), message: `must not be nested deeper than ${maxDepth} levels` };
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--)
        stack.push({ value: node[i], key: i, parent: place, depth });
      continue;
    }
    const keys = Object.keys(node);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      const child: Place = {
        value: (node as Record<string, unknown>)[key],
        key,
        parent: place,
        depth,
      };
      const message = textProblem(key);
      if (message !== null) return { path: pathOf(child), message: `key ${message}` };
      stack.push(child);
    }
  }
  return null;
}

interface Place {
  value: unknown;
  key: string | number | null;
  parent: Place | null;
  depth: number;
}

function pathOf(place: Place): JsonPath {
  const path: (string | number)[] = [];
  for (let at: Place | null = place; at !== null && at.key !== null; at = at.parent)
    path.push(at.key);
  return path.reverse();
}

/**
 * Depth and serialized size of a JSON value, without serializing it. The walk stops once
 * either passes its limit, so the figures answer "within the limits?" and are exact only
 * up to there.
 *
 * @example measureJson({ a: [1, 'é'] }, { maxDepth: 16, maxBytes: 16384 }); // { depth: 2, bytes: 15 }
 */
export function measureJson(
  value: unknown,
  limits: { maxDepth: number; maxBytes: number },
): JsonMeasure {
  let depth = 0;
  let bytes = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const node = item.value;
    if (node === null || typeof node !== 'object') {
      bytes += scalarBytes(node);
    } else {
      const level = item.depth + 1;
      depth = Math.max(depth, level);
      if (depth > limits.maxDepth) break;
      const entries = Array.isArray(node) ? node : Object.entries(node);
      bytes += 2 + Math.max(0, entries.length - 1); // brackets and commas
      for (const entry of entries) {
        if (Array.isArray(node)) {
          stack.push({ value: entry, depth: level });
        } else {
          const [key, inner] = entry as [string, unknown];
          bytes += stringBytes(key) + 1; // the key and its colon
          stack.push({ value: inner, depth: level });
        }
      }
    }
    if (bytes > limits.maxBytes) break;
  }
  return { depth, bytes };
}

function scalarBytes(value: unknown): number {
  if (typeof value === 'string') return stringBytes(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value).length : 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  return 4; // null (and what JSON.stringify writes as null)
}

/** A string's size as JSON: quotes, escapes and UTF-8. */
function stringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

/**
 * A path as the API names fields in error details: `metadata.a[0].b`.
 *
 * @example formatPath('metadata', ['a', 0, 'b']); // 'metadata.a[0].b'
 */
export function formatPath(base: string, path: JsonPath): string {
  let out = base;
  for (const part of path)
    out = typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part;
  return out || 'body';
}
