import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from '../support/random.ts';
import {
  CANDIDATE_MODELS,
  addDays,
  dayOfWeek,
  fillGaps,
  forecastTotal,
  rollingOrigin,
  seasonalNaive,
  trainModel,
  wape,
  type DailyCount,
  type TrainedModel,
} from '../../src/analytics/forecast/index.ts';

// --- synthetic series --------------------------------------------------------------------------

/** Poisson: Knuth's method for small means, the normal approximation above 30. */
function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rand)));
  const limit = Math.exp(-lambda);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}

/** Monday..Sunday; weekends at 40%. */
const WEEKLY = [1.0, 1.05, 1.05, 1.0, 0.9, 0.4, 0.4];
const START = '2026-03-02'; // a Monday
const DAYS = 182; // 26 weeks of history

/** Poisson counts around level(t) x weekday factor, with 5% extra (multiplicative) noise. */
function synth(seed: number, level: (t: number) => number, days = DAYS + 8): DailyCount[] {
  const rand = mulberry32(seed);
  return Array.from({ length: days }, (_, t) => {
    const mean = level(t) * (WEEKLY[t % 7] ?? 1) * (1 + 0.05 * gaussian(rand));
    return { date: addDays(START, t), count: poisson(rand, mean) };
  });
}

const SCENARIOS: Record<string, (t: number) => number> = {
  'trend+season+noise': (t) => 300 + 1.2 * t,
  'constant+noise': () => 200,
  'level shift (-33% 6 weeks ago)': (t) => (t < DAYS - 42 ? 300 : 200),
  'small counts with zeros': () => 1.5,
};

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const TODAY = addDays(START, DAYS); // days 0..181 are history; day 182 is today

function train(series: DailyCount[], today = TODAY): TrainedModel {
  return trainModel(series, { today, now: new Date(`${today}T06:00:00Z`) });
}

function expectWellFormed(model: TrainedModel, today: string) {
  expect(model.forecast.map((p) => p.date)).toEqual(
    Array.from({ length: 7 }, (_, i) => addDays(today, i + 1)),
  );
  for (const p of model.forecast) {
    for (const v of [p.expected, p.low, p.high]) expect(Number.isInteger(v) && v >= 0).toBe(true);
    expect(p.low).toBeLessThanOrEqual(p.expected);
    expect(p.expected).toBeLessThanOrEqual(p.high);
  }
  expect(JSON.parse(JSON.stringify(model))).toEqual(model);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Each candidate's backtest WAPE, averaged over the models, for the console line. */
function candidateErrors(models: TrainedModel[]): string {
  const backtests = models.map((m) => (m.params as { backtest: Record<string, number> }).backtest);
  return CANDIDATE_MODELS.map(({ name }) => {
    return `${name} ${mean(backtests.map((b) => b[name]!)).toFixed(4)}`;
  }).join(', ');
}

// --- tests -------------------------------------------------------------------------------------

describe('series helpers', () => {
  it('fills gaps with zeros, sorted, summing duplicate dates', () => {
    const filled = fillGaps([
      { date: '2026-12-31', count: 2 },
      { date: '2027-01-02', count: 5 },
      { date: '2026-12-31', count: 1 },
    ]);
    expect(filled).toEqual([
      { date: '2026-12-31', count: 3 },
      { date: '2027-01-01', count: 0 },
      { date: '2027-01-02', count: 5 },
    ]);
  });

  it('knows the weekday (Monday = 0) and adds days across months and years', () => {
    expect(dayOfWeek('2026-11-30')).toBe(0);
    expect(dayOfWeek('2026-11-29')).toBe(6);
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(() => addDays('2026-02-30', 1)).toThrow(RangeError);
  });

  it('WAPE is total absolute error over total actual, null without actuals', () => {
    expect(wape([10, 0, 30], [12, 1, 27])).toBeCloseTo(0.15, 10);
    expect(wape([0, 0], [1, 1])).toBeNull();
  });
});

describe('candidate models and backtest', () => {
  const flat = Array.from({ length: 70 }, (_, t) => 100 * (WEEKLY[t % 7] ?? 1));

  it.each(CANDIDATE_MODELS.map((m) => [m.name, m] as const))(
    '%s reproduces a noiseless weekly pattern and never goes negative',
    (_name, model) => {
      const next = model.fit(flat, 0).predict(14);
      next.forEach((v, i) => expect(v).toBeCloseTo(flat[i % 7]!, 0));
      const falling = Array.from({ length: 70 }, (_, t) => Math.max(0, 140 - 2 * t));
      expect(Math.min(...model.fit(falling, 0).predict(7))).toBeGreaterThanOrEqual(0);
    },
  );

  it('rolls the origin over the last K weeks, training only on what came before', () => {
    const values = Array.from({ length: 50 }, (_, t) => t);
    const folds = rollingOrigin(values, 0, [seasonalNaive], { weeks: 4, gap: 1 });
    expect(folds.map((f) => f.origin)).toEqual([22, 29, 36, 43]);
    expect(folds[0]!.actual).toEqual([22, 23, 24, 25, 26, 27, 28]);
    // Trained on days 0..20 (day 21 is the skipped "today"): last week 14..20, repeated.
    expect(folds[0]!.forecasts.seasonal_naive).toEqual([15, 16, 17, 18, 19, 20, 14]);
  });
});

describe('trainModel', () => {
  it('beats the seasonal-naive baseline on trend + weekly season + noise', () => {
    const models = SEEDS.map((seed) => train(synth(seed, SCENARIOS['trend+season+noise']!)));
    const ours = mean(models.map((m) => m.mape!));
    const naive = mean(models.map((m) => m.baseline_mape!));
    console.log(
      `backtest WAPE, last 4 weeks, mean of ${SEEDS.length} seeds: ours ${ours.toFixed(4)} vs seasonal-naive ${naive.toFixed(4)}`,
    );
    const wins = models.filter((m) => m.mape! < m.baseline_mape!).length;
    console.log(
      `candidates alone: ${candidateErrors(models)}; ours wins on ${wins}/${SEEDS.length} seeds`,
    );
    expect(ours).toBeLessThan(naive * 0.9);
    expect(wins).toBeGreaterThanOrEqual(16);
    for (const m of models) {
      expect(m.kind).toBe('ensemble');
      expect(m.training_days).toBe(DAYS);
      expect(Object.values(m.weights).reduce((s, w) => s + w, 0)).toBeCloseTo(1, 3);
    }
  });

  // Small counts are discrete: with integer bounds rounded outwards the band over-covers.
  const coverageRange: Record<string, [number, number]> = {
    'trend+season+noise': [0.7, 0.9],
    'constant+noise': [0.7, 0.9],
    'level shift (-33% 6 weeks ago)': [0.7, 0.95],
    'small counts with zeros': [0.7, 1],
  };
  for (const [name, [minCover, maxCover]] of Object.entries(coverageRange)) {
    it(`the 80 percent interval covers ${minCover}-${maxCover} of the held-out week: ${name}`, () => {
      let covered = 0;
      let total = 0;
      const models: TrainedModel[] = [];
      const holdout = { ours: [] as number[], naive: [] as number[] };
      for (const seed of SEEDS) {
        const series = synth(seed, SCENARIOS[name]!);
        const model = train(series);
        expectWellFormed(model, TODAY);
        models.push(model);
        const future = series.slice(DAYS + 1, DAYS + 8).map((d) => d.count);
        const sameDayLastWeek = series.slice(DAYS - 6, DAYS + 1).map((d) => d.count);
        model.forecast.forEach((p, i) => {
          covered += future[i]! >= p.low && future[i]! <= p.high ? 1 : 0;
          total++;
        });
        holdout.ours.push(
          wape(
            future,
            model.forecast.map((p) => p.expected),
          ) ?? NaN,
        );
        holdout.naive.push(wape(future, sameDayLastWeek) ?? NaN);
      }
      const avg = (pick: (m: TrainedModel) => number | null) =>
        mean(models.map((m) => pick(m) ?? NaN)).toFixed(4);
      console.log(
        `${name}: backtest WAPE ours ${avg((m) => m.mape)} vs naive ${avg((m) => m.baseline_mape)}` +
          ` (${candidateErrors(models)}); held-out week WAPE ours ${mean(holdout.ours).toFixed(4)}` +
          ` vs naive ${mean(holdout.naive).toFixed(4)}; 80% interval coverage ${(covered / total).toFixed(3)}`,
      );
      expect(covered / total).toBeGreaterThanOrEqual(minCover);
      expect(covered / total).toBeLessThanOrEqual(maxCover);
    });
  }

  it('ignores today and later, and treats missing days up to yesterday as zeros', () => {
    const series = synth(7, SCENARIOS['trend+season+noise']!);
    const complete = series.slice(0, DAYS);
    const withToday = [...complete, ...series.slice(DAYS).map((d) => ({ ...d, count: 99_999 }))];
    const a = train(complete);
    const b = train(withToday);
    expect(b.forecast).toEqual(a.forecast);
    expect(b.mape).toBe(a.mape);
    // The last three days missing (no responses) is not the same as unknown.
    const silent = train(complete.slice(0, DAYS - 3));
    expect(silent.training_days).toBe(DAYS);
    expect(forecastTotal(silent)).toBeLessThan(forecastTotal(a));
  });

  it('keeps a level shift and a holiday spike from distorting next week', () => {
    const shifted = synth(3, (t) => (t < DAYS - 28 ? 300 : 150));
    const weekly = WEEKLY.reduce((s, w) => s + w, 0);
    expect(forecastTotal(train(shifted)) / (150 * weekly)).toBeGreaterThan(0.85);
    expect(forecastTotal(train(shifted)) / (150 * weekly)).toBeLessThan(1.2);

    const clean = synth(4, () => 300);
    const spiked = clean.map((d, t) => (t === DAYS - 10 ? { ...d, count: d.count * 5 } : d));
    const [a, b] = [train(clean), train(spiked)];
    expectWellFormed(b, TODAY);
    expect(forecastTotal(b) / forecastTotal(a)).toBeLessThan(1.1);
  });

  it('forecasts a flat noisy series near its level', () => {
    const model = train(synth(5, SCENARIOS['constant+noise']!));
    const weekly = WEEKLY.reduce((s, w) => s + w, 0);
    expect(Math.abs(forecastTotal(model) / (200 * weekly) - 1)).toBeLessThan(0.1);
  });

  it('falls back to the mean with a wide interval under 14 days', () => {
    const series = [5, 7, 6, 8, 4, 6, 6, 7, 5, 6].map((count, i) => ({
      date: addDays('2026-11-01', i),
      count,
    }));
    const model = train(series, '2026-11-11');
    expectWellFormed(model, '2026-11-11');
    expect(model).toMatchObject({ kind: 'mean', mape: null, baseline_mape: null });
    expect(model.training_days).toBe(10);
    for (const p of model.forecast) {
      expect(p.expected).toBe(6);
      expect(p.high - p.low).toBeGreaterThanOrEqual(8);
    }
  });

  it('handles 2-3 weeks of history without a full backtest', () => {
    const series = synth(9, () => 100).slice(0, 17);
    const today = addDays(START, 17);
    const model = train(series, today);
    expectWellFormed(model, today);
    expect(model.kind).toBe('ensemble');
    expect(model.mape).toBeNull();
    expect(forecastTotal(model)).toBeGreaterThan(0);
  });

  it('forecasts zeros from no history, or from nothing but zeros', () => {
    for (const series of [[], [{ date: '2026-11-01', count: 0 }]]) {
      const model = train(series, '2026-11-20');
      expectWellFormed(model, '2026-11-20');
      expect(model).toMatchObject({ kind: 'empty', training_days: 0, mape: null });
      expect(forecastTotal(model)).toBe(0);
    }
  });

  it('starts the history at the first response, whatever zeros come before', () => {
    const series = synth(11, () => 100).slice(0, 60);
    const padded = [
      ...Array.from({ length: 30 }, (_, i) => ({ date: addDays(START, i - 30), count: 0 })),
      ...series,
    ];
    const today = addDays(START, 60);
    expect(train(padded, today).forecast).toEqual(train(series, today).forecast);
  });
});
