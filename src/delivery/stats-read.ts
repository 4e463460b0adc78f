import type { Queryable } from '../db/index.ts';
import { quantileMs } from './stats-histogram.ts';
import { STATS_BUCKET_MS } from './stats.ts';
import { latencyHistogram, pendingCount, statsByBucket } from './stats-queries.ts';

/** The windows of `GET .../stats` and their answer buckets (each a whole number of rows). */
export const STATS_WINDOWS = {
  '1h': { count: 12, stepMs: STATS_BUCKET_MS },
  '24h': { count: 24, stepMs: 3_600_000 },
  '7d': { count: 28, stepMs: 6 * 3_600_000 },
} as const;

export type StatsWindow = keyof typeof STATS_WINDOWS;

/**
 * An integration's delivery stats over a window (DESIGN.md section 4b), from the counters
 * in `delivery_stats` (never the attempt log) and, for `pending`, the deliveries waiting in
 * `delivery_schedule` now. The window is `count` whole buckets of `stepMs`, aligned to UTC
 * multiples of the step, the last one the bucket now is in: so `1h` covers 55 to 60
 * minutes back, and the buckets sum to the totals.
 */
export async function readStats(
  db: Queryable,
  integrationId: string,
  window: StatsWindow,
  now = new Date(),
) {
  const { count, stepMs } = STATS_WINDOWS[window];
  const from = Math.floor(now.getTime() / stepMs) * stepMs - (count - 1) * stepMs;
  const until = from + count * stepMs;
  const [buckets, histogram, pending] = await Promise.all([
    statsByBucket(db, integrationId, from, until, stepMs),
    latencyHistogram(db, integrationId, from, until),
    pendingCount(db, integrationId),
  ]);
  const totals = { delivered: 0, failed_attempts: 0, dead: 0, filtered: 0 };
  const series = Array.from({ length: count }, (_, k) => ({
    t: new Date(from + k * stepMs).toISOString(),
    delivered: 0,
    failed: 0,
  }));
  for (const row of buckets) {
    const bucket = series[row.k];
    if (!bucket) continue;
    bucket.delivered += Number(row.delivered);
    bucket.failed += Number(row.failed);
    totals.delivered += Number(row.delivered);
    totals.failed_attempts += Number(row.failed);
    totals.dead += Number(row.dead);
    totals.filtered += Number(row.filtered);
  }
  const latency = histogram;
  const settled = totals.delivered + totals.dead;
  return {
    window,
    ...totals,
    pending,
    success_rate: settled === 0 ? null : totals.delivered / settled,
    latency_ms: { p50: quantileMs(latency, 0.5), p95: quantileMs(latency, 0.95) },
    buckets: series,
  };
}
