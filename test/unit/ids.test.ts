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

  it('uses an explicit time as given (imported history)', () => {
    const at = Date.parse('2020-01-02T03:04:05.678Z');
    const id = uuidv7(at);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect(uuidv7() > id).toBe(true);
  });
});
