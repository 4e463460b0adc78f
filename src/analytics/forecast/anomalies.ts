import {
  addDays,
  at,
  clampNumber,
  dayNumber,
  fillGaps,
  robustScale,
  trimmedMean,
  type DailyCount,
} from './series.ts';

/** A day whose count falls far outside what the days before it led to expect. */
export interface Anomaly {
  date: string;
  count: number;
  /** The expectation from the days before (rounded). */
  expected: number;
  /** The lowest count that would not have been flagged (>= 0). */
  low: number;
  /** The highest count that would not have been flagged. */
  high: number;
}

/** What {@link detectAnomalies} may be told. */
export interface AnomalyOptions {
  /** How many of the last complete days to check (default 28). */
  days?: number;
  /** Today's date: it (incomplete) and later days are ignored. Default: none ignored. */
  today?: string;
  /** The flagging threshold in robust standard deviations (default 3: |z| > 3). */
  threshold?: number;
  /** Deviations smaller than this many responses are never flagged (default 5). */
  minDeviation?: number;
}

const WEEK = 7;
const PROFILE_WEEKS = 8;
const LEVEL_DAYS = 28;
const SCALE_DAYS = 56;
/** Below this many residuals the noise scale is assumed rather than measured. */
const MIN_SCALE_SAMPLES = 7;
const DEFAULT_SCALE = 1.5;
const MIN_SCALE = 1;

/**
 * The typical count of day `t`'s weekday over the (up to) 8 weeks before it: a
 * trimmed mean, so one holiday among them does not move it. Null without one.
 */
function weekdayTypical(values: readonly number[], t: number): number | null {
  const same: number[] = [];
  for (let k = 1; k <= PROFILE_WEEKS && t - WEEK * k >= 0; k++) same.push(at(values, t - WEEK * k));
  return same.length > 0 ? trimmedMean(same) : null;
}

/**
 * The robust one-step expectation of day `t` from the days before it: its
 * weekday's typical count over the previous 8 weeks, times the recent level,
 * the trimmed mean of the last 28 days' ratios to their own weekday's typical
 * count (it follows a trend, as both lag alike, without being moved by a few
 * odd days). Null under two weeks of data.
 */
export function robustExpectation(values: readonly number[], t: number): number | null {
  if (t < 2 * WEEK) return null;
  const base = weekdayTypical(values, t);
  if (base === null) return null;
  const ratios: number[] = [];
  for (let s = Math.max(WEEK, t - LEVEL_DAYS); s < t; s++) {
    const m = weekdayTypical(values, s);
    if (m !== null && m > 0) ratios.push(at(values, s) / m);
  }
  const level = ratios.length >= WEEK ? clampNumber(trimmedMean(ratios), 0.25, 4) : 1;
  return base * level;
}

/**
 * Anscombe's square-root transform: it turns Poisson counts of any mean into
 * values with unit variance and (nearly) symmetric tails, so one threshold
 * suits busy days and quiet ones, where a plain (x - e) / sqrt(e) is skewed.
 */
function anscombe(count: number): number {
  return 2 * Math.sqrt(Math.max(0, count) + 3 / 8);
}

/** The count whose transform is `z` (the inverse of {@link anscombe}, floored at 0). */
function fromAnscombe(z: number): number {
  return z <= 0 ? 0 : Math.max(0, (z / 2) ** 2 - 3 / 8);
}

/**
 * Flags the days among the last `days` complete ones whose count lies outside
 * a band around the expectation of {@link robustExpectation}: on Anscombe's
 * square-root scale (where Poisson noise has unit spread) the band is
 * +- threshold x the robust (MAD) spread of the errors of the 8 weeks before
 * that day (at least 1, the spread of pure Poisson noise). Days deviating by
 * fewer than `minDeviation` responses are never flagged. Oldest first.
 *
 * @example detectAnomalies(daily, { today: '2026-11-29' }); // [{ date: '2026-11-12', count: 310, ... }]
 */
export function detectAnomalies(
  series: readonly DailyCount[],
  options: AnomalyOptions = {},
): Anomaly[] {
  const { days = 28, today, threshold = 3, minDeviation = 5 } = options;
  const cutoff = today === undefined ? Infinity : dayNumber(today);
  const filled = fillGaps(series.filter((d) => dayNumber(d.date) < cutoff));
  const values = filled.map((d) => d.count);
  const first = Math.max(0, values.length - days - SCALE_DAYS);
  const expected = values.map((_, t) => (t < first ? null : robustExpectation(values, t)));
  const errors = values.map((v, t) => {
    const e = expected[t];
    return e === null || e === undefined ? null : anscombe(v) - anscombe(e);
  });
  const out: Anomaly[] = [];
  for (let t = Math.max(0, values.length - days); t < values.length; t++) {
    const e = expected[t];
    if (e === null || e === undefined) continue;
    const past = errors.slice(Math.max(0, t - SCALE_DAYS), t).filter((z) => z !== null);
    const scale =
      past.length >= MIN_SCALE_SAMPLES ? Math.max(MIN_SCALE, robustScale(past)) : DEFAULT_SCALE;
    const band = threshold * scale; // on the transformed scale
    const low = Math.ceil(fromAnscombe(anscombe(e) - band));
    const high = Math.floor(fromAnscombe(anscombe(e) + band));
    const count = at(values, t);
    if ((count < low || count > high) && Math.abs(count - e) >= minDeviation) {
      out.push({ date: filled[t]!.date, count, expected: Math.round(e), low, high });
    }
  }
  return out;
}

/** Counts of the 7 days ending today against the 7 before. */
export interface WeekOverWeek {
  this_week: number;
  last_week: number;
  /** this_week / last_week - 1; null when last_week is 0. */
  change: number | null;
}

/**
 * Week-over-week change: `this_week` sums the 7 days ending `today` (today
 * included, so far), `last_week` the 7 days before those.
 *
 * @example weekOverWeek(daily, '2026-11-28'); // { this_week: 30, last_week: 20, change: 0.5 }
 */
export function weekOverWeek(series: readonly DailyCount[], today: string): WeekOverWeek {
  const thisStart = dayNumber(addDays(today, -(WEEK - 1)));
  const lastStart = thisStart - WEEK;
  const end = dayNumber(today);
  let thisWeek = 0;
  let lastWeek = 0;
  for (const { date, count } of series) {
    const day = dayNumber(date);
    if (day >= thisStart && day <= end) thisWeek += count;
    else if (day >= lastStart && day < thisStart) lastWeek += count;
  }
  return {
    this_week: thisWeek,
    last_week: lastWeek,
    change: lastWeek === 0 ? null : thisWeek / lastWeek - 1,
  };
}
