import type { Delivery } from './types.ts';

/**
 * Success rate over the deliveries created in the last 24 h that have finished or failed
 * at least once (pending ones with no attempt yet are left out); null when there are none. Pure.
 */
export function successRate(
  deliveries: Delivery[],
  now = Date.now(),
): { rate: number | null; counted: number } {
  const since = now - 24 * 3_600_000;
  const recent = deliveries.filter(
    (d) => Date.parse(d.created_at) >= since && (d.status !== 'pending' || d.attempts.length > 0),
  );
  const succeeded = recent.filter((d) => d.status === 'succeeded').length;
  return { rate: recent.length === 0 ? null : succeeded / recent.length, counted: recent.length };
}
