import { RE2JS } from 're2js';

/**
 * Field patterns run on re2js, a pure-JavaScript port of RE2: matching takes time linear
 * in the answer's length whatever the pattern, so `^(a+)+$` cannot stall the event loop as
 * it does under the backtracking `RegExp` (12-27 s on 32 characters). The price is RE2
 * syntax: no backreferences and no lookaround, which `patternProblem` refuses at form save.
 */

/** A compiled pattern: whether a whole answer matches it. */
export interface FieldPattern {
  test(value: string): boolean;
}

const CACHE_LIMIT = 1000;

/** Compiled field patterns, shared by every form that uses the same pattern. */
const cache = new Map<string, FieldPattern>();

/**
 * Compiles a field pattern; the whole answer must match it (RE2's full match, so a pattern
 * such as `a)|(b` cannot break out of added anchors: it does not compile).
 *
 * @throws an RE2 syntax error when the pattern does not compile; `patternProblem` rules
 *   that out for stored forms.
 */
export function compilePattern(pattern: string): FieldPattern {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    // Patterns come from form definitions; the cap only guards a long-lived process.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    const re = RE2JS.compile(pattern);
    compiled = { test: (value) => re.matches(value) };
    cache.set(pattern, compiled);
  }
  return compiled;
}

/**
 * Null when RE2 can run the pattern, else why not, in the RE2 parser's words (e.g.
 * "invalid or unsupported Perl syntax: `(?=`" for a lookahead).
 */
export function patternProblem(pattern: string): string | null {
  try {
    compilePattern(pattern);
    return null;
  } catch (error) {
    return `must be a valid regular expression in RE2 syntax (no backreferences or lookaround): ${(error as Error).message}`;
  }
}
