import { foldsWape, rollingOrigin, wape, type BacktestFold } from './backtest.ts';
import { CANDIDATE_MODELS, seasonalNaive, type ForecastModel } from './models.ts';
import {
  addDays,
  at,
  dayNumber,
  dayOfWeek,
  fillGaps,
  formatDay,
  mean,
  quantile,
  sum,
  utcDate,
  type DailyCount,
} from './series.ts';

/** One forecast day: the expected count and its 80% interval, all non-negative integers. */
export interface ForecastPoint {
  date: string;
  expected: number;
  low: number;
  high: number;
}

/** A trained forecaster as stored and served; plain JSON. */
export interface TrainedModel {
  /** `ensemble`, or `mean` (under 14 days of history), or `empty` (no history). */
  kind: string;
  /** ISO timestamp of the training. */
  trained_at: string;
  /** Days of history used (from the first day with a response to yesterday). */
  training_days: number;
  /** Backtest WAPE of the whole procedure over the last weeks (a fraction); null when untested. */
  mape: number | null;
  /** The same backtest's WAPE of the seasonal-naive forecast, for comparison. */
  baseline_mape: number | null;
  /** Each candidate's weight in the final forecast (they sum to 1). */
  weights: Record<string, number>;
  /** The 7 days after `today`. */
  forecast: ForecastPoint[];
  /** Diagnostics: per-candidate backtest errors, interval quantiles, fitted parameters. */
  params?: unknown;
}

/** What {@link trainModel} may be told. */
export interface TrainOptions {
  /** Today's UTC date (`YYYY-MM-DD`); it and later days are ignored. Defaults to `now`'s date. */
  today?: string;
  /** How many recent weeks the reported backtest covers (default 4). */
  backtestWeeks?: number;
  /** The training time (default: the current time). */
  now?: Date;
  /** The candidate models (default {@link CANDIDATE_MODELS}); the seasonal-naive baseline is always scored. */
  models?: readonly ForecastModel[];
}

const HORIZON = 7;
const MIN_HISTORY = 14;
const Z80 = 1.2816; // the normal 90% quantile: +-Z80 sd covers 80%
/**
 * Each candidate weighs 1 / WAPE^WEIGHT_POWER. On the synthetic series 4 beat
 * 1 and 2 (inverse MSE) everywhere; picking the best (a huge power) won on
 * stable series but lost after a level shift (docs/forecasting.md).
 */
const WEIGHT_POWER = 4;
/** Errors below this (0.5%) count as this, so a perfect fit cannot take an infinite weight. */
const MIN_ERROR = 0.005;
/** The interval's quantiles are widened by (1 + WIDEN / samples): few samples, wider band. */
const WIDEN = 4;

/**
 * Trains the next-week forecaster on completed daily counts. Days on or after
 * `today` are ignored (today is incomplete); missing days count as zero and
 * the history starts at the first day with a response. Every candidate model
 * is backtested on the last weeks; the forecast is their inverse-error
 * weighted average, refitted on all the history, with an 80% interval from
 * the ensemble's own backtest errors. Under 14 days of history it falls back
 * to the mean with a wide interval; with none, to zeros.
 *
 * @example trainModel(daily, { today: '2026-11-29' }).forecast[0].date; // '2026-11-30'
 */
export function trainModel(
  series: readonly DailyCount[],
  options: TrainOptions = {},
): TrainedModel {
  const now = options.now ?? new Date();
  const today = options.today ?? utcDate(now);
  const history = prepareHistory(series, today);
  const dates = Array.from({ length: HORIZON }, (_, i) => addDays(today, i + 1));
  const base = { trained_at: now.toISOString(), training_days: history.values.length };
  if (history.values.length === 0) {
    const zeros = dates.map((date) => ({ date, expected: 0, low: 0, high: 0 }));
    return {
      ...base,
      kind: 'empty',
      mape: null,
      baseline_mape: null,
      weights: {},
      forecast: zeros,
    };
  }
  if (history.values.length < MIN_HISTORY) {
    return { ...base, ...meanForecast(history.values, dates) };
  }
  const models = options.models ?? CANDIDATE_MODELS;
  return { ...base, ...ensembleForecast(history, dates, options.backtestWeeks ?? 4, models) };
}

/** The sum of the expected counts of a trained model's forecast. */
export function forecastTotal(model: TrainedModel): number {
  return sum(model.forecast.map((p) => p.expected));
}

interface History {
  values: number[];
  startDow: number;
}

/** Complete days only, gap-free up to yesterday, from the first non-zero day. */
function prepareHistory(series: readonly DailyCount[], today: string): History {
  const todayNumber = dayNumber(today);
  const past = series.filter((d) => dayNumber(d.date) < todayNumber);
  const filled = fillGaps(past);
  const yesterday = todayNumber - 1;
  const last = filled.length > 0 ? dayNumber(filled[filled.length - 1]!.date) : yesterday;
  for (let day = last + 1; day <= yesterday; day++) filled.push({ date: formatDay(day), count: 0 });
  const first = filled.findIndex((d) => d.count > 0);
  if (first < 0) return { values: [], startDow: 0 };
  const kept = filled.slice(first);
  return { values: kept.map((d) => Math.max(0, d.count)), startDow: dayOfWeek(kept[0]!.date) };
}

/** Under two weeks: the mean of the days so far, with twice the normal 80% half-width. */
function meanForecast(values: number[], dates: string[]) {
  const m = mean(values);
  const sd = Math.max(Math.sqrt(m), Math.sqrt(mean(values.map((v) => (v - m) ** 2))));
  const forecast = dates.map((date) => toPoint(date, m, m - 2 * Z80 * sd, m + 2 * Z80 * sd));
  return { kind: 'mean', mape: null, baseline_mape: null, weights: { mean: 1 }, forecast };
}

/** Inverse-error weights from the folds; equal weights when some model has no error yet. */
function inverseErrorWeights(
  folds: readonly BacktestFold[],
  models: readonly ForecastModel[],
): Record<string, number> {
  const errors = models.map((m) => foldsWape(folds, m.name));
  if (errors.some((e) => e === null)) {
    return Object.fromEntries(models.map((m) => [m.name, 1 / models.length]));
  }
  const raw = errors.map((e) => 1 / Math.max(e ?? 0, MIN_ERROR) ** WEIGHT_POWER);
  const total = sum(raw);
  return Object.fromEntries(models.map((m, i) => [m.name, at(raw, i) / total]));
}

/** The weighted average of the models' forecasts. */
function combine(forecasts: Record<string, number[]>, weights: Record<string, number>): number[] {
  const out = new Array<number>(HORIZON).fill(0);
  for (const [name, w] of Object.entries(weights)) {
    forecasts[name]?.forEach((v, i) => (out[i]! += w * v));
  }
  return out;
}

/** Errors scaled like Poisson noise, (actual - forecast) / sqrt(forecast), so one band fits all levels. */
function standardised(actual: readonly number[], forecast: readonly number[]): number[] {
  return actual.map((a, i) => (a - at(forecast, i)) / Math.sqrt(Math.max(at(forecast, i), 1)));
}

/**
 * Backtests the candidates over the last 2k weeks and the ensemble over the
 * last k of them; for each of those test weeks the ensemble's weights come
 * only from the weeks before it, so its reported error is out of sample.
 */
function backtestEnsemble(history: History, k: number, models: readonly ForecastModel[]) {
  const scored = models.includes(seasonalNaive) ? models : [...models, seasonalNaive];
  const folds = rollingOrigin(history.values, history.startDow, scored, {
    weeks: 2 * k,
    gap: 1,
  });
  const recent = folds.slice(-k);
  const ensemble = folds.map((fold, f) => {
    const weights = inverseErrorWeights(folds.slice(Math.max(0, f - k), f), models);
    return combine(fold.forecasts, weights);
  });
  return {
    mape: wape(
      recent.flatMap((fold) => fold.actual),
      ensemble.slice(-recent.length).flat(),
    ),
    baselineMape: foldsWape(recent, seasonalNaive.name),
    candidates: Object.fromEntries(scored.map((m) => [m.name, foldsWape(recent, m.name)])),
    weights: inverseErrorWeights(recent, models),
    residuals: folds.flatMap((fold, f) => standardised(fold.actual, ensemble[f] ?? [])),
  };
}

/** The ensemble refitted on all the history, with its 80% interval. */
function ensembleForecast(
  history: History,
  dates: string[],
  k: number,
  models: readonly ForecastModel[],
) {
  const bt = backtestEnsemble(history, k, models);
  const forecasts: Record<string, number[]> = {};
  const fitted: Record<string, unknown> = {};
  for (const model of models) {
    const fit = model.fit(history.values, history.startDow);
    forecasts[model.name] = fit.predict(HORIZON + 1).slice(1); // skip today
    if (fit.params) fitted[model.name] = fit.params;
  }
  const expected = combine(forecasts, bt.weights);
  // Too few backtest errors (a short history): the seasonal-naive in-sample errors stand in.
  const samples =
    bt.residuals.length >= HORIZON
      ? bt.residuals
      : standardised(history.values.slice(HORIZON), history.values.slice(0, -HORIZON));
  const widen = 1 + WIDEN / samples.length;
  const lowQ = Math.min(0, quantile(samples, 0.1)) * widen;
  const highQ = Math.max(0, quantile(samples, 0.9)) * widen;
  const forecast = dates.map((date, i) => {
    const f = at(expected, i);
    const scale = Math.sqrt(Math.max(f, 1));
    return toPoint(date, f, f + lowQ * scale, f + highQ * scale);
  });
  return {
    kind: 'ensemble',
    mape: round4(bt.mape),
    baseline_mape: round4(bt.baselineMape),
    weights: Object.fromEntries(Object.entries(bt.weights).map(([n, w]) => [n, round4(w) ?? 0])),
    forecast,
    params: {
      backtest: Object.fromEntries(Object.entries(bt.candidates).map(([n, e]) => [n, round4(e)])),
      interval: { low_q: round4(lowQ), high_q: round4(highQ), samples: samples.length },
      models: fitted,
    },
  };
}

/** Integers for the API, with 0 <= low <= expected <= high. */
function toPoint(date: string, expected: number, low: number, high: number): ForecastPoint {
  const e = Math.max(0, Math.round(expected));
  return {
    date,
    expected: e,
    low: Math.min(e, Math.max(0, Math.floor(low))),
    high: Math.max(e, Math.ceil(high)),
  };
}

function round4(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10_000) / 10_000;
}
