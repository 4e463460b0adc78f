import type { DeliveryStats } from './types.ts';

/** A success rate as the console shows it: one decimal, or a dash when nothing settled. Pure. */
export function formatRate(rate: number | null): string {
  return rate === null ? 'no deliveries' : `${(rate * 100).toFixed(1)}%`;
}

/** The figures of a stats answer, labelled, in the order the health panel lists them. Pure. */
export function healthFigures(
  stats: DeliveryStats,
): { id: string; label: string; value: string }[] {
  const p95 = stats.latency_ms.p95;
  return [
    { id: 'delivered', label: 'Delivered', value: String(stats.delivered) },
    { id: 'failed-attempts', label: 'Failed attempts', value: String(stats.failed_attempts) },
    { id: 'dead', label: 'Dead', value: String(stats.dead) },
    { id: 'pending', label: 'Pending', value: String(stats.pending) },
    { id: 'filtered', label: 'Filtered', value: String(stats.filtered) },
    { id: 'latency-p95', label: 'Latency p95', value: p95 === null ? '–' : `${p95} ms` },
  ];
}
