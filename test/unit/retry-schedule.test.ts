import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_AFTER_MS,
  nextDelayMs,
  parseRetryAfter,
} from '../../src/delivery/retry-schedule.ts';

const schedule = [1_000, 60_000, 600_000, 7_200_000] as const;
const now = Date.parse('2024-05-01T10:00:00Z');
const none = () => 0;
const most = () => 0.999999;

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['120', 120_000],
    [' 30 ', 30_000],
    ['Wed, 01 May 2024 10:01:00 GMT', 60_000], // IMF-fixdate
    ['Wednesday, 01-May-24 10:00:30 GMT', 30_000], // RFC 850
    ['Wed May  1 10:00:05 2024', 5_000], // asctime, GMT whatever the local zone
    ['Tue, 30 Apr 2024 10:00:00 GMT', 0], // in the past
  ])('%j -> %s ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    null,
    undefined,
    '',
    '-5',
    '1.5',
    '1e3',
    'soon',
    '2024-05-01T10:01:00Z',
    'Wed, 99 Foo 2024',
  ])('%j -> null', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });

  it('defaults now to the clock', () => {
    const inOneMinute = new Date(Date.now() + 60_000).toUTCString();
    expect(parseRetryAfter(inOneMinute)).toBeGreaterThan(55_000);
    expect(parseRetryAfter(inOneMinute)).toBeLessThanOrEqual(60_000);
  });
});

describe('nextDelayMs', () => {
  it('follows the schedule, attempt by attempt', () => {
    expect(
      schedule.map((_, i) => nextDelayMs({ schedule, attemptNumber: i + 1, random: none })),
    ).toEqual([...schedule]);
  });

  it('returns null once the schedule is exhausted', () => {
    expect(nextDelayMs({ schedule, attemptNumber: 5 })).toBeNull();
    expect(nextDelayMs({ schedule, attemptNumber: 50, retryAfter: '10' })).toBeNull();
    expect(nextDelayMs({ schedule: [], attemptNumber: 1 })).toBeNull();
  });

  it('adds 0 to 20% jitter', () => {
    expect(nextDelayMs({ schedule, attemptNumber: 2, random: () => 0.5 })).toBe(66_000);
    expect(nextDelayMs({ schedule, attemptNumber: 2, random: most })).toBe(72_000);
    for (let i = 0; i < 1000; i += 1) {
      const delay = nextDelayMs({ schedule, attemptNumber: 3 }) ?? -1;
      expect(delay).toBeGreaterThanOrEqual(600_000);
      expect(delay).toBeLessThanOrEqual(720_000);
    }
  });

  it('honours a longer Retry-After, in seconds or as a date', () => {
    expect(nextDelayMs({ schedule, attemptNumber: 1, retryAfter: '30', random: none })).toBe(
      30_000,
    );
    const date = new Date(now + 90_000).toUTCString();
    expect(nextDelayMs({ schedule, attemptNumber: 2, retryAfter: date, random: none, now })).toBe(
      90_000,
    );
  });

  it('never lets Retry-After shorten the schedule', () => {
    expect(nextDelayMs({ schedule, attemptNumber: 2, retryAfter: '1', random: none })).toBe(60_000);
    expect(nextDelayMs({ schedule, attemptNumber: 4, retryAfter: '3600', random: none })).toBe(
      7_200_000,
    );
  });

  it('caps Retry-After at one hour', () => {
    expect(nextDelayMs({ schedule, attemptNumber: 1, retryAfter: '86400', random: none })).toBe(
      MAX_RETRY_AFTER_MS,
    );
    const farDate = new Date(now + 7 * 86_400_000).toUTCString();
    expect(nextDelayMs({ schedule, attemptNumber: 1, retryAfter: farDate, now })).toBe(3_600_000);
  });

  it('ignores an unparseable Retry-After', () => {
    expect(nextDelayMs({ schedule, attemptNumber: 1, retryAfter: 'later', random: none })).toBe(
      1_000,
    );
    expect(nextDelayMs({ schedule, attemptNumber: 1, retryAfter: null, random: none })).toBe(1_000);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects attemptNumber %s', (attemptNumber) => {
    expect(() => nextDelayMs({ schedule, attemptNumber })).toThrow(RangeError);
  });
});
