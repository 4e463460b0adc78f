import { describe, expect, it } from 'vitest';
import {
  emptyHistogram,
  LATENCY_BUCKETS,
  latencyBucket,
  quantileMs,
} from '../../src/delivery/stats-histogram.ts';

/** The exact quantile of a list (nearest rank), the oracle for the histogram's answer. */
function exact(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('delivery stats latency histogram', () => {
  it('puts each latency in the quarter-octave bin that holds it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.4)).toBe(0);
    expect(latencyBucket(1)).toBe(1);
    expect(latencyBucket(2)).toBe(5);
    expect(latencyBucket(1_000)).toBe(1 + Math.floor(4 * Math.log2(1_000)));
    expect(latencyBucket(10_000_000)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucket(Number.NaN)).toBe(0);
  });

  it('answers quantiles within a quarter octave above the exact value', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647) ** 3;
    const values = Array.from({ length: 5_000 }, () => Math.round(random() * 30_000));
    const histogram = emptyHistogram();
    for (const v of values) histogram[latencyBucket(v)]! += 1;
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const truth = exact(values, q);
      const answer = quantileMs(histogram, q)!;
      expect(answer, `q=${q}`).toBeGreaterThanOrEqual(truth);
      expect(truth, `q=${q}`).toBeGreaterThan(answer * 2 ** -0.25 - 1);
    }
  });

  it('answers null for an empty histogram, and 0 when every attempt took 0 ms', () => {
    expect(quantileMs(emptyHistogram(), 0.5)).toBeNull();
    const zeros = emptyHistogram();
    zeros[0] = 3;
    expect(quantileMs(zeros, 0.95)).toBe(0);
  });
});
