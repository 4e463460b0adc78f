import type { Queryable } from '../db/index.ts';
import { emptyHistogram, quantileMs } from './stats-histogram.ts';
import { STATS_BUCKET_MS } from './stats.ts';

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
    db.query<{ k: number; delivered: string; failed: string; dead: string; filtered: string }>(
      `SELECT floor((extract(epoch FROM bucket_start) * 1000 - $2) / $3)::integer AS k,
         sum(delivered) AS delivered, sum(failed_attempts) AS failed, sum(dead) AS dead,
         sum(filtered) AS filtered
       FROM delivery_stats WHERE integration_id = $1 AND bucket_start >= $4 AND bucket_start < $5
       GROUP BY 1`,
      [integrationId, from, stepMs, new Date(from), new Date(until)],
    ),
    db.query<{ i: number; n: string }>(
      `SELECT u.i::integer AS i, sum(u.n) AS n
       FROM delivery_stats s, unnest(s.latency) WITH ORDINALITY AS u(n, i)
       WHERE s.integration_id = $1 AND s.bucket_start >= $2 AND s.bucket_start < $3 AND u.n > 0
       GROUP BY u.i`,
      [integrationId, new Date(from), new Date(until)],
    ),
    db.query<{ n: string }>(
      `SELECT count(*) AS n FROM deliveries d JOIN delivery_schedule s ON s.delivery_id = d.id
       WHERE d.integration_id = $1`,
      [integrationId],
    ),
  ]);
  const totals = { delivered: 0, failed_attempts: 0, dead: 0, filtered: 0 };
  const series = Array.from({ length: count }, (_, k) => ({
    t: new Date(from + k * stepMs).toISOString(),
    delivered: 0,
    failed: 0,
  }));
  for (const row of buckets.rows) {
    const bucket = series[row.k];
    if (!bucket) continue;
    bucket.delivered += Number(row.delivered);
    bucket.failed += Number(row.failed);
    totals.delivered += Number(row.delivered);
    totals.failed_attempts += Number(row.failed);
    totals.dead += Number(row.dead);
    totals.filtered += Number(row.filtered);
  }
  const latency = emptyHistogram();
  // ORDINALITY counts from 1.
  for (const row of histogram.rows) latency[row.i - 1] = Number(row.n);
  const settled = totals.delivered + totals.dead;
  return {
    window,
    ...totals,
    pending: Number(pending.rows[0]?.n ?? 0),
    success_rate: settled === 0 ? null : totals.delivered / settled,
    latency_ms: { p50: quantileMs(latency, 0.5), p95: quantileMs(latency, 0.95) },
    buckets: series,
  };
}
