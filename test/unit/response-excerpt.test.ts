import { describe, expect, it } from 'vitest';
import { EXCERPT_BYTES, excerpt } from '../../src/delivery/response-excerpt.ts';

describe('excerpt', () => {
  it('keeps a short body whole, from a string or a Buffer', () => {
    expect(excerpt('ok')).toBe('ok');
    expect(excerpt(Buffer.from('{"error":"nope"}'))).toBe('{"error":"nope"}');
    expect(excerpt('')).toBe('');
  });

  it('cuts at 20 KB by default', () => {
    expect(EXCERPT_BYTES).toBe(20_480);
    const cut = excerpt('a'.repeat(30_000));
    expect(cut).toHaveLength(20_480);
    expect(excerpt('a'.repeat(20_480))).toHaveLength(20_480);
  });

  it.each([
    ['é (2 bytes)', 'é'],
    ['€ (3 bytes)', '€'],
    ['😀 (4 bytes)', '😀'],
  ])('never splits %s', (_name, char) => {
    const size = Buffer.byteLength(char);
    const body = 'x'.repeat(10) + char.repeat(10);
    for (let max = 10; max <= 10 + size * 10; max += 1) {
      const cut = excerpt(body, max);
      expect(cut).not.toContain('\uFFFD');
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
      expect(Buffer.byteLength(cut)).toBeGreaterThan(max - size);
      expect(body.startsWith(cut)).toBe(true);
    }
  });

  it('cuts exactly at a character boundary at the default size', () => {
    const body = 'a'.repeat(20_479) + 'é' + 'tail';
    expect(excerpt(body)).toBe('a'.repeat(20_479));
    expect(excerpt(Buffer.from(body))).toBe('a'.repeat(20_479));
  });

  it('replaces NUL, which PostgreSQL text cannot store', () => {
    expect(excerpt(Buffer.from([0x61, 0x00, 0x62]))).toBe('a\uFFFDb');
  });

  it('does not loop on invalid UTF-8', () => {
    const junk = Buffer.alloc(100, 0x80);
    expect(Buffer.byteLength(excerpt(junk, 50))).toBeGreaterThan(0);
    expect(excerpt(junk, 0)).toBe('');
  });
});
