/**
 * The latency histogram of delivery stats: fixed log-scale buckets, a quarter of an octave
 * wide (each bound 2^(1/4), about 1.19, times the one below). Bucket 0 holds 0 ms; bucket
 * i >= 1 holds [2^((i-1)/4), 2^(i/4)) ms; the last one, from about 46 s, is open-ended.
 * Fixed bounds make histograms of any process and any bucket of time add up element-wise.
 */
export const LATENCY_BUCKETS = 64;

/** The bucket of a latency in milliseconds. */
export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, 1 + Math.floor(4 * Math.log2(ms)));
}

/** An empty histogram. */
export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/**
 * The `q` quantile (0 < q <= 1) of a histogram, as the upper bound of the bucket that holds
 * it, rounded up to a whole millisecond: the true value is at most the answer and more than
 * 2^(-1/4) (84%) of it. The open-ended last bucket answers its lower bound. Null when empty.
 */
export function quantileMs(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return upperBoundMs(i);
  }
  return upperBoundMs(histogram.length - 1);
}

function upperBoundMs(bucket: number): number {
  if (bucket === 0) return 0;
  if (bucket >= LATENCY_BUCKETS - 1) return Math.ceil(2 ** ((bucket - 1) / 4));
  return Math.ceil(2 ** (bucket / 4));
}
