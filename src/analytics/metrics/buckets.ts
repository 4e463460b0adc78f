/** The series the metrics document shows: 48 hours, 90 days, 12 months, oldest first. */
export const SERIES_LENGTHS = { hour: 48, day: 90, month: 12 } as const;

export type Granularity = keyof typeof SERIES_LENGTHS;

/** `2026-11-28T10:00:00Z`, `2026-11-28`, `2026-11`: the UTC bucket of an instant. */
export function bucketKey(granularity: Granularity, at: Date): string {
  const iso = at.toISOString();
  if (granularity === 'hour') return `${iso.slice(0, 13)}:00:00Z`;
  if (granularity === 'day') return iso.slice(0, 10);
  return iso.slice(0, 7);
}

/** The keys of a series ending with the bucket of `now`, oldest first. */
export function seriesKeys(granularity: Granularity, now: Date): string[] {
  const length = SERIES_LENGTHS[granularity];
  const keys: string[] = [];
  for (let i = length - 1; i >= 0; i--) {
    const at = new Date(now.getTime());
    if (granularity === 'hour') at.setUTCHours(at.getUTCHours() - i, 0, 0, 0);
    else if (granularity === 'day') at.setUTCDate(at.getUTCDate() - i);
    else at.setUTCFullYear(at.getUTCFullYear(), at.getUTCMonth() - i, 1);
    keys.push(bucketKey(granularity, at));
  }
  return keys;
}

/** The earliest instant a series ending at `now` covers (for SQL that builds it). */
export function seriesStart(granularity: Granularity, now: Date): Date {
  const first = seriesKeys(granularity, now)[0]!;
  if (granularity === 'hour') return new Date(first);
  if (granularity === 'day') return new Date(`${first}T00:00:00Z`);
  return new Date(`${first}-01T00:00:00Z`);
}
