import { describe, expect, it } from 'vitest';
import { order } from '../../src/analytics/dsl/filter-predicate.ts';
import { mulberry32 } from '../support/random.ts';

/** Code point order, the plain way: what PostgreSQL's COLLATE "C" (UTF-8 bytes) gives. */
function reference(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

// Around the places where UTF-16 order and code point order part: the surrogates and U+E000-FFFF.
const ALPHABET = [
  'a',
  'b',
  'é',
  '\uD7FF',
  '\uE000',
  '\uFFFD',
  '\uFFFF',
  '😀',
  '𝄞',
  '\u{10FFFF}',
  '',
];

describe('the in-memory text order of conditions', () => {
  it('is code point order (UTF-8 byte order), the order of the SQL it stands for', () => {
    const random = mulberry32(7);
    const word = () => {
      let s = '';
      const n = Math.floor(random() * 4);
      for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
      return s;
    };
    let disagreeWithUtf16 = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = word();
      const b = word();
      expect(Math.sign(order(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(
        Math.sign(reference(a, b)),
      );
      if (Math.sign(reference(a, b)) !== Math.sign(a < b ? -1 : a > b ? 1 : 0))
        disagreeWithUtf16 += 1;
    }
    // The sample must hold the cases where plain `<` is wrong, or it proves nothing.
    expect(disagreeWithUtf16).toBeGreaterThan(100);
  });
});
