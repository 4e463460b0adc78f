import { at, mean, median, sum, trimmedMean } from './series.ts';

/** A model fitted to one history. */
export interface FittedModel {
  /** Forecasts of the `h` days right after the history, each clamped at >= 0. */
  predict(h: number): number[];
  /** In-sample errors (actual - fitted) over the part of the history the model explains. */
  residuals: number[];
  /** What the fit chose (smoothing parameters and the like), JSON-serialisable. */
  params?: Record<string, number>;
}

/** A candidate forecasting model over a daily series. */
export interface ForecastModel {
  /** Stable name, used as the key of ensemble weights. */
  readonly name: string;
  /**
   * Fits the model. `history` is a gap-free daily series, oldest first;
   * `startDow` is the weekday of `history[0]` (Monday = 0).
   */
  fit(history: readonly number[], startDow: number): FittedModel;
}

const WEEK = 7;

function clampAll(values: number[]): number[] {
  return values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
}

/** The fallback for histories too short for a model: the mean of what there is. */
function meanFit(history: readonly number[]): FittedModel {
  const m = mean(history);
  return {
    predict: (h) => clampAll(new Array<number>(h).fill(m)),
    residuals: history.map((x) => x - m),
  };
}

/** The same weekday of the last week: the baseline every other model must beat. */
export const seasonalNaive: ForecastModel = {
  name: 'seasonal_naive',
  fit(history) {
    const n = history.length;
    if (n < WEEK) return meanFit(history);
    const lastWeek = history.slice(n - WEEK);
    return {
      predict: (h) => clampAll(Array.from({ length: h }, (_, i) => at(lastWeek, i % WEEK))),
      residuals: history.slice(WEEK).map((x, i) => x - at(history, i)),
    };
  },
};

/** Solves `a x = b` by Gaussian elimination with partial pivoting (a is square, small). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, at(b, i)]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    }
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-12) continue; // a column with no information: its coefficient stays 0
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / p;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return m.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[n]! / row[i]!));
}

/** The regressors [1, t, Tue..Sun dummies] of day `t` (Monday is the base level). */
function regressors(t: number, dow: number): number[] {
  const x = [1, t, 0, 0, 0, 0, 0, 0];
  if (dow > 0) x[1 + dow] = 1;
  return x;
}

/** Least squares on [1, t, day-of-week dummies] over the whole history: the seed's model. */
export const linearTrendSeasonal: ForecastModel = {
  name: 'linear_trend_seasonal',
  fit(history, startDow) {
    const n = history.length;
    if (n < 2 * WEEK) return meanFit(history);
    const k = 8;
    const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const xty = new Array<number>(k).fill(0);
    for (let t = 0; t < n; t++) {
      const x = regressors(t, (startDow + t) % WEEK);
      for (let i = 0; i < k; i++) {
        xty[i]! += at(x, i) * at(history, t);
        for (let j = 0; j < k; j++) xtx[i]![j]! += at(x, i) * at(x, j);
      }
    }
    const beta = solve(xtx, xty);
    const fitted = (t: number) =>
      regressors(t, (startDow + t) % WEEK).reduce((s, x, i) => s + x * at(beta, i), 0);
    return {
      predict: (h) => clampAll(Array.from({ length: h }, (_, i) => fitted(n + i))),
      residuals: history.map((x, t) => x - fitted(t)),
      params: { intercept: at(beta, 0), slope: at(beta, 1) },
    };
  },
};

interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

interface HoltWintersState {
  level: number;
  trend: number;
  season: number[]; // indexed by weekday
  sse: number;
  residuals: number[];
}

/** Runs damped additive Holt-Winters over the history, from a two-week initialisation. */
function runHoltWinters(history: readonly number[], startDow: number, p: HoltWintersParams) {
  const week1 = mean(history.slice(0, WEEK));
  const week2 = mean(history.slice(WEEK, 2 * WEEK));
  const season = new Array<number>(WEEK).fill(0);
  for (let t = 0; t < 2 * WEEK; t++) {
    season[(startDow + t) % WEEK]! += (at(history, t) - (t < WEEK ? week1 : week2)) / 2;
  }
  const s: HoltWintersState = {
    // week1 is the level at its middle day (t = 3); the state starts just before t = 0.
    level: week1 - ((WEEK + 1) / 2) * ((week2 - week1) / WEEK),
    trend: (week2 - week1) / WEEK,
    season,
    sse: 0,
    residuals: [],
  };
  for (let t = 0; t < history.length; t++) {
    const dow = (startDow + t) % WEEK;
    const x = at(history, t);
    const error = x - (s.level + p.phi * s.trend + at(s.season, dow));
    if (t >= 2 * WEEK) s.sse += error * error; // the first two weeks fed the initial state
    s.residuals.push(error);
    const level = p.alpha * (x - at(s.season, dow)) + (1 - p.alpha) * (s.level + p.phi * s.trend);
    s.trend = p.beta * (level - s.level) + (1 - p.beta) * p.phi * s.trend;
    s.season[dow] = p.gamma * (x - level) + (1 - p.gamma) * at(s.season, dow);
    s.level = level;
  }
  return s;
}

const HW_GRID = {
  alpha: [0.05, 0.1, 0.2, 0.35, 0.5],
  beta: [0, 0.02, 0.1],
  gamma: [0.05, 0.15, 0.3],
  phi: [0.8, 0.9, 0.98],
};

/** Every combination of the Holt-Winters grid. */
function* hwGrid(): Generator<HoltWintersParams> {
  for (const alpha of HW_GRID.alpha)
    for (const beta of HW_GRID.beta)
      for (const gamma of HW_GRID.gamma)
        for (const phi of HW_GRID.phi) yield { alpha, beta, gamma, phi };
}

/**
 * Additive Holt-Winters with a damped trend and a weekly season; the smoothing
 * parameters come from a small grid minimising the in-sample one-step SSE.
 */
export const holtWintersAdditive: ForecastModel = {
  name: 'holt_winters',
  fit(history, startDow) {
    const n = history.length;
    if (n < 3 * WEEK) return seasonalNaive.fit(history, startDow);
    let best: { p: HoltWintersParams; s: HoltWintersState } | undefined;
    for (const p of hwGrid()) {
      const s = runHoltWinters(history, startDow, p);
      if (!best || s.sse < best.s.sse) best = { p, s };
    }
    const { p, s } = best!;
    const predict = (h: number) => {
      const out: number[] = [];
      let damp = 0;
      for (let i = 1; i <= h; i++) {
        damp += p.phi ** i;
        out.push(s.level + damp * s.trend + at(s.season, (startDow + n + i - 1) % WEEK));
      }
      return clampAll(out);
    };
    return { predict, residuals: s.residuals.slice(2 * WEEK), params: { ...p } };
  },
};

/** The Theil-Sen line (median pairwise slope, median intercept) through `y` at x = 0, 1, ... */
function theilSen(y: readonly number[]): { intercept: number; slope: number } {
  const slopes: number[] = [];
  for (let i = 0; i < y.length; i++) {
    for (let j = i + 1; j < y.length; j++) slopes.push((at(y, j) - at(y, i)) / (j - i));
  }
  const slope = slopes.length > 0 ? median(slopes) : 0;
  return { slope, intercept: median(y.map((v, i) => v - slope * i)) };
}

const PROFILE_WEEKS = 8;
const LEVEL_WEEKS = 8;

/**
 * Robust to outliers: each weekday's trimmed mean over the last 8 weeks gives
 * the weekly shape, rescaled to a weekly level from a Theil-Sen line through
 * the last 8 weekly totals (so one odd day, or one odd week, barely moves it).
 */
export const robustSeasonalLevel: ForecastModel = {
  name: 'robust_seasonal',
  fit(history) {
    const n = history.length;
    if (n < 2 * WEEK) return meanFit(history);
    const weeks = Math.min(PROFILE_WEEKS, Math.floor(n / WEEK));
    // profile[j]: the typical count of the weekday of day n + j.
    const profile = Array.from({ length: WEEK }, (_, j) =>
      trimmedMean(Array.from({ length: weeks }, (_, k) => at(history, n + j - WEEK * (k + 1)))),
    );
    const blocks = Math.min(LEVEL_WEEKS, Math.floor(n / WEEK));
    const totals = Array.from({ length: blocks }, (_, b) => {
      const start = n - WEEK * (blocks - b);
      return sum(history.slice(start, start + WEEK));
    });
    const line = theilSen(totals);
    const profileTotal = sum(profile);
    const dayAt = (j: number, block: number) => {
      const total = Math.max(0, line.intercept + line.slope * block);
      return profileTotal > 0 ? (at(profile, j % WEEK) * total) / profileTotal : total / WEEK;
    };
    const predict = (h: number) =>
      clampAll(Array.from({ length: h }, (_, i) => dayAt(i, blocks + Math.floor(i / WEEK))));
    const residuals = history
      .slice(n - WEEK * blocks)
      .map((x, i) => x - dayAt(i, Math.floor(i / WEEK)));
    return { predict, residuals, params: { weekly_slope: line.slope } };
  },
};

/** The candidates the ensemble backtests and combines, the baseline first. */
export const CANDIDATE_MODELS: readonly ForecastModel[] = [
  seasonalNaive,
  linearTrendSeasonal,
  holtWintersAdditive,
  robustSeasonalLevel,
];
