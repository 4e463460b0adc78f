/** One UTC day of completed responses. */
export interface DailyCount {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  count: number;
}

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date; throws `RangeError` on anything else. */
export function dayNumber(date: string): number {
  const m = DATE_RE.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || formatDay(ms / DAY_MS) !== date) {
    throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  }
  return ms / DAY_MS;
}

/** The `YYYY-MM-DD` of a day number (days since 1970-01-01). */
export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * `date` moved by `n` days (negative goes back).
 *
 * @example addDays('2026-11-28', 3); // '2026-12-01'
 */
export function addDays(date: string, n: number): string {
  return formatDay(dayNumber(date) + n);
}

/**
 * The day of the week with Monday = 0 ... Sunday = 6.
 *
 * @example dayOfWeek('2026-11-30'); // 0 (a Monday)
 */
export function dayOfWeek(date: string): number {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return (((dayNumber(date) + 3) % 7) + 7) % 7;
}

/** The UTC date (`YYYY-MM-DD`) of an instant. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The series sorted by date with every missing day between the first and the
 * last date filled with a zero count. Duplicate dates are summed.
 *
 * @example fillGaps([{ date: '2026-01-03', count: 2 }, { date: '2026-01-01', count: 1 }]);
 * // [{ date: '2026-01-01', count: 1 }, { date: '2026-01-02', count: 0 }, { date: '2026-01-03', count: 2 }]
 */
export function fillGaps(series: readonly DailyCount[]): DailyCount[] {
  if (series.length === 0) return [];
  const byDay = new Map<number, number>();
  for (const { date, count } of series) {
    const day = dayNumber(date);
    byDay.set(day, (byDay.get(day) ?? 0) + count);
  }
  const days = [...byDay.keys()];
  const first = Math.min(...days);
  const last = Math.max(...days);
  const out: DailyCount[] = [];
  for (let day = first; day <= last; day++) {
    out.push({ date: formatDay(day), count: byDay.get(day) ?? 0 });
  }
  return out;
}

// Small statistics over plain values, shared by the models, the backtest and the anomaly check.

/** The element at `i`, or 0 when out of range (keeps `noUncheckedIndexedAccess` quiet). */
export function at(values: readonly number[], i: number): number {
  return values[i] ?? 0;
}

/** The sum of the values. */
export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** The arithmetic mean; 0 for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}

/** The empirical `p`-quantile (0..1) with linear interpolation; 0 for no values. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(pos);
  const frac = pos - lo;
  return at(sorted, lo) + (frac > 0 ? frac * (at(sorted, lo + 1) - at(sorted, lo)) : 0);
}

/** The median; 0 for no values. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The median absolute deviation from the median, scaled (x1.4826) to match a normal SD. */
export function robustScale(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/** `value` limited to [lo, hi]. */
export function clampNumber(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

/**
 * The mean of the values left after dropping the `fraction` lowest and highest
 * (at least one each from 4 values up): nearly as steady as the mean, nearly as
 * robust as the median. 0 for no values.
 */
export function trimmedMean(values: readonly number[], fraction = 0.25): number {
  if (values.length < 4) return median(values);
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.max(1, Math.floor(values.length * fraction));
  return mean(sorted.slice(cut, sorted.length - cut));
}
