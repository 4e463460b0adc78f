import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter, ZAPIER_PER_SECOND } from '../../src/delivery/index.ts';
import {
  bucketOf,
  groupByBucket,
  intervalUs,
  reserveSlots,
  waitsOf,
} from '../../src/delivery/rate-limiter.ts';
import { checkRateLimit, checkRetry } from '../../src/integrations/delivery-policy.ts';

describe('rate limiter core (GCRA without burst)', () => {
  it('an idle bucket answers now; the next slots follow an interval apart', () => {
    expect(reserveSlots(0, 5_000, 100, 1)).toEqual({ firstWaitUs: 0, tatUs: 5_100 });
    expect(reserveSlots(5_100, 5_000, 100, 3)).toEqual({ firstWaitUs: 100, tatUs: 5_400 });
    // A bucket idle since its last slot does not save up a burst.
    expect(reserveSlots(5_400, 90_000, 100, 2)).toEqual({ firstWaitUs: 0, tatUs: 90_200 });
  });

  it('rounds the interval up: never faster than asked', () => {
    expect(intervalUs(30)).toBe(33_334);
    expect(intervalUs(1_000_000)).toBe(1);
    expect(intervalUs(3)).toBe(333_334);
  });

  it('spreads a batch over its buckets, each in order', () => {
    const requests = [
      { bucket: 'a', perSecond: 10 },
      { bucket: 'b', perSecond: 1 },
      { bucket: 'a', perSecond: 10 },
    ];
    const groups = groupByBucket(requests);
    expect(groups).toEqual([
      { bucket: 'a', intervalUs: 100_000, indexes: [0, 2] },
      { bucket: 'b', intervalUs: 1_000_000, indexes: [1] },
    ]);
    expect(waitsOf(groups, [50, 0], 3)).toEqual([50, 0, 100_050]);
  });

  it('keeps N per second however the requests arrive (in memory)', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      waits.push(...(await limiter.reserve([{ bucket: 'x', perSecond: 5 }])));
      now += 10_000; // a request every 10 ms, far faster than 5 per second
    }
    const sends = waits.map((wait, i) => i * 10_000 + wait);
    for (let i = 1; i < sends.length; i++) expect(sends[i]! - sends[i - 1]!).toBe(200_000);
  });

  it("Zapier hooks share their workspace's bucket unless they have a limit of their own", () => {
    const zap = { id: 'z1', workspace_id: 'w1', connector: 'zapier', rate_limit_per_second: null };
    expect(bucketOf(zap)).toEqual({ bucket: 'zapier:w1', perSecond: ZAPIER_PER_SECOND });
    expect(bucketOf({ ...zap, id: 'z2' })).toEqual(bucketOf(zap));
    expect(bucketOf({ ...zap, rate_limit_per_second: 5 })).toEqual({
      bucket: 'i:z1',
      perSecond: 5,
    });
    expect(bucketOf({ ...zap, connector: 'webhook' })).toBeUndefined();
  });
});

describe('delivery policy validation', () => {
  it('parses a schedule with the units of WEBHOOK_RETRY_SCHEDULE', () => {
    const details: { field: string; message: string }[] = [];
    expect(checkRetry({ schedule: ['100ms', '10s', '1m', '1h', '1d'] }, 'retry', details)).toEqual({
      schedule: ['100ms', '10s', '1m', '1h', '1d'],
      ms: [100, 10_000, 60_000, 3_600_000, 86_400_000],
    });
    expect(details).toEqual([]);
  });

  it('names what is wrong', () => {
    const fields = (check: (details: { field: string; message: string }[]) => unknown) => {
      const details: { field: string; message: string }[] = [];
      check(details);
      return details.map((d) => d.field);
    };
    expect(fields((d) => checkRetry({ schedule: Array(21).fill('1s') }, 'retry', d))).toEqual([
      'retry.schedule',
    ]);
    expect(fields((d) => checkRetry({ schedule: ['7d', '1ms'] }, 'retry', d))).toEqual([
      'retry.schedule',
    ]);
    expect(fields((d) => checkRetry({ schedule: ['7d'] }, 'retry', d))).toEqual([]);
    expect(fields((d) => checkRetry({ schedule: ['1s', '2 weeks'] }, 'retry', d))).toEqual([
      'retry.schedule[1]',
    ]);
    for (const perSecond of [0, -1, 1.5, 1_000_001, '30'])
      expect(fields((d) => checkRateLimit({ per_second: perSecond }, 'rate_limit', d))).toEqual([
        'rate_limit.per_second',
      ]);
    expect(fields((d) => checkRateLimit({ per_second: 30 }, 'rate_limit', d))).toEqual([]);
  });
});
