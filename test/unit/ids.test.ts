import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from '../../src/common/ids.ts';

describe('uuidv7', () => {
  it('makes valid version-7 UUIDs', () => {
    const id = uuidv7();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('is strictly increasing within a process, even many per millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carries 74 random bits: no repeats, every hex digit in every random place', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7(0));
    expect(new Set(ids).size).toBe(ids.length);
    for (const place of [15, 16, 17, 20, 21, 22, 24, 29, 35]) {
      const digits = new Set(ids.map((id) => id[place]));
      expect(digits.size, `place ${place}`).toBe(16);
    }
    expect(new Set(ids.map((id) => id[19]))).toEqual(new Set(['8', '9', 'a', 'b']));
    expect(ids.every((id) => isUuid(id) && id.startsWith('00000000-0000-7'))).toBe(true);
  });

  it('uses an explicit time as given (imported history)', () => {
    const at = Date.parse('2020-01-02T03:04:05.678Z');
    const id = uuidv7(at);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect(uuidv7() > id).toBe(true);
  });
});
