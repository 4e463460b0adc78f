import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../support/random.ts';
import {
  addDays,
  detectAnomalies,
  weekOverWeek,
  type DailyCount,
} from '../../src/analytics/forecast/index.ts';

/** Monday..Sunday; weekends at 40%. */
const WEEKLY = [1.0, 1.05, 1.05, 1.0, 0.9, 0.4, 0.4];
const START = '2026-03-02'; // a Monday
const DAYS = 182;

/**
 * Counts around a gently rising level x weekday factor: Poisson noise (normal
 * approximation, the means are large) plus 5% multiplicative noise.
 */
function seasonal(seed: number, level = (t: number) => 400 + 0.5 * t): DailyCount[] {
  const rand = mulberry32(seed);
  return Array.from({ length: DAYS }, (_, t) => {
    const mean = level(t) * (WEEKLY[t % 7] ?? 1) * (1 + 0.05 * gaussian(rand));
    const count = Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rand)));
    return { date: addDays(START, t), count };
  });
}

/** The series with the counts of days `days` cut by 30%. */
function withDrop(series: DailyCount[], days: number[]): DailyCount[] {
  return series.map((d, t) => (days.includes(t) ? { ...d, count: Math.round(d.count * 0.7) } : d));
}

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
/** A Tuesday or Wednesday in the last 28 days, varying with the seed (a 3-day run stays on weekdays). */
const dropDay = (seed: number) => DAYS - 28 + 7 * (seed % 3) + 1 + (seed % 2);

describe('detectAnomalies', () => {
  it('flags (almost) nothing on clean seasonal series', () => {
    const flagged = SEEDS.map((seed) => detectAnomalies(seasonal(seed)).length);
    const perSeries = flagged.reduce((s, n) => s + n, 0) / SEEDS.length;
    console.log(`clean series: ${perSeries.toFixed(2)} false positives per 28 days`);
    expect(perSeries).toBeLessThanOrEqual(1);
  });

  it('flags a one-day 30% drop on a weekday', () => {
    let hits = 0;
    for (const seed of SEEDS) {
      const series = seasonal(seed);
      const day = dropDay(seed);
      const found = detectAnomalies(withDrop(series, [day]));
      const hit = found.find((a) => a.date === series[day]!.date);
      if (!hit) continue;
      hits++;
      expect(hit.count).toBeLessThan(hit.low);
      expect(hit.low).toBeLessThanOrEqual(hit.expected);
      expect(hit.expected).toBeLessThanOrEqual(hit.high);
    }
    console.log(`single 30% drop flagged in ${hits}/${SEEDS.length} series`);
    // The misses are days that were ~10-15% above expectation before the cut, so only ~20%
    // below after it: inside the noise of a ~500/day series with 5% extra variation.
    expect(hits).toBeGreaterThanOrEqual(17);
  });

  it('flags a three-day run of 30% drops', () => {
    let flaggedDays = 0;
    for (const seed of SEEDS) {
      const series = seasonal(seed);
      const run = [0, 1, 2].map((i) => dropDay(seed) + i);
      const dates = new Set(run.map((t) => series[t]!.date));
      const found = detectAnomalies(withDrop(series, run)).filter((a) => dates.has(a.date));
      expect(found.length).toBeGreaterThanOrEqual(1);
      flaggedDays += found.length;
    }
    console.log(`3-day run: ${flaggedDays}/${3 * SEEDS.length} drop days flagged`);
    expect(flaggedDays / (3 * SEEDS.length)).toBeGreaterThanOrEqual(0.8);
  });

  it('flags a holiday spike, and only looks at the last N complete days', () => {
    const series = seasonal(3);
    const spiked = series.map((d, t) => (t === DAYS - 5 ? { ...d, count: d.count * 3 } : d));
    const found = detectAnomalies(spiked);
    expect(found.map((a) => a.date)).toContain(series[DAYS - 5]!.date);
    expect(found.find((a) => a.date === series[DAYS - 5]!.date)!.count).toBeGreaterThan(
      found.find((a) => a.date === series[DAYS - 5]!.date)!.high,
    );
    expect(detectAnomalies(spiked, { days: 4 }).map((a) => a.date)).not.toContain(
      series[DAYS - 5]!.date,
    );
  });

  it('leaves today (incomplete) out', () => {
    const series = seasonal(4);
    const today = addDays(START, DAYS - 1);
    const partial = series.map((d, t) => (t === DAYS - 1 ? { ...d, count: 3 } : d));
    expect(detectAnomalies(partial).map((a) => a.date)).toContain(today);
    expect(detectAnomalies(partial, { today }).map((a) => a.date)).not.toContain(today);
  });

  it('stays quiet on short histories and tiny counts', () => {
    expect(detectAnomalies([])).toEqual([]);
    expect(detectAnomalies(seasonal(5).slice(0, 13))).toEqual([]);
    const tiny = Array.from({ length: 90 }, (_, t) => ({
      date: addDays(START, t),
      count: t % 11 === 0 ? 3 : 0,
    }));
    expect(detectAnomalies(tiny)).toEqual([]);
  });
});

describe('weekOverWeek', () => {
  // 14 days before today and today: week 1 = 1..7, week 2 = 10, 20, ..., 70.
  const today = '2026-11-28';
  const series: DailyCount[] = [
    { date: '2026-11-14', count: 1000 }, // 14 days back: in neither week
    ...Array.from({ length: 7 }, (_, i) => ({ date: addDays('2026-11-15', i), count: i + 1 })),
    ...Array.from({ length: 7 }, (_, i) => ({
      date: addDays('2026-11-22', i),
      count: 10 * (i + 1),
    })),
    { date: '2026-11-29', count: 1000 }, // tomorrow: in neither week
  ];

  it('sums the 7 days ending today against the 7 before', () => {
    expect(weekOverWeek(series, today)).toEqual({ this_week: 280, last_week: 28, change: 9 });
  });

  it('counts missing days as zero and gives a null change from an empty week', () => {
    const sparse = [
      { date: '2026-11-20', count: 4 },
      { date: '2026-11-28', count: 5 },
      { date: '2026-11-22', count: 1 },
    ];
    expect(weekOverWeek(sparse, today)).toEqual({ this_week: 6, last_week: 4, change: 0.5 });
    expect(weekOverWeek([{ date: today, count: 2 }], today)).toEqual({
      this_week: 2,
      last_week: 0,
      change: null,
    });
  });
});
