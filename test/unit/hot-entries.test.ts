import { describe, expect, it } from 'vitest';
import { HotEntries } from '../../src/cache/hot-entries.ts';

describe('HotEntries', () => {
  it('serves a kept value until its time is up, never longer than its own ttl', () => {
    const hot = new HotEntries(1_000, 10);
    hot.keep('a', { v: 1 }, hot.mark(), 60_000, 0);
    hot.keep('b', { v: 2 }, hot.mark(), 200, 0);
    expect(hot.get('a', 999)).toEqual({ v: 1 });
    expect(hot.get('a', 1_000)).toBeUndefined(); // capped at the hot ttl
    expect(hot.get('b', 199)).toEqual({ v: 2 });
    expect(hot.get('b', 200)).toBeUndefined(); // the shorter L1 ttl wins
  });

  it('keeps nothing read while a drop happened', () => {
    const hot = new HotEntries(1_000, 10);
    const mark = hot.mark();
    hot.drop(['other']); // any drop: the read may have raced a change of this key
    hot.keep('a', { v: 1 }, mark, 1_000, 0);
    expect(hot.get('a', 1)).toBeUndefined();
    const again = hot.mark();
    hot.keep('a', { v: 1 }, again, 1_000, 0);
    expect(hot.get('a', 1)).toEqual({ v: 1 });
    hot.clear();
    expect(hot.get('a', 1)).toBeUndefined();
  });

  it('drops the oldest entry beyond maxItems, and keeps no undefined', () => {
    const hot = new HotEntries(1_000, 2);
    for (const key of ['a', 'b', 'c']) hot.keep(key, key.toUpperCase(), hot.mark(), 1_000, 0);
    hot.keep('d', undefined, hot.mark(), 1_000, 0);
    expect([hot.get('a', 1), hot.get('b', 1), hot.get('c', 1), hot.get('d', 1)]).toEqual([
      undefined,
      'B',
      'C',
      undefined,
    ]);
  });
});
