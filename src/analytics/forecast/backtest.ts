import type { ForecastModel } from './models.ts';
import { at } from './series.ts';

/** One test week of a rolling-origin backtest. */
export interface BacktestFold {
  /** The index (in the history) of the first test day. */
  origin: number;
  /** The test days' actual counts. */
  actual: number[];
  /** Each model's forecast of the test days, by model name. */
  forecasts: Record<string, number[]>;
}

/** How {@link rollingOrigin} cuts the history. */
export interface BacktestOptions {
  /** How many of the last weeks to use as test weeks (default 4). */
  weeks?: number;
  /** Days skipped between the training data and the test week (default 0). */
  gap?: number;
  /** The shortest training history a fold may have (default 14 days); shorter folds are skipped. */
  minTrain?: number;
}

const WEEK = 7;

/**
 * Rolling-origin backtest: each of the last `weeks` weeks in turn is the test
 * week; every model is fitted on the history before it (less `gap` days, to
 * mirror production, where today is still incomplete and left out) and
 * forecasts its 7 days. Folds come oldest first.
 *
 * @example rollingOrigin(counts, 0, [seasonalNaive], { weeks: 4 }).length; // 4 with >= 42 days
 */
export function rollingOrigin(
  values: readonly number[],
  startDow: number,
  models: readonly ForecastModel[],
  options: BacktestOptions = {},
): BacktestFold[] {
  const { weeks = 4, gap = 0, minTrain = 2 * WEEK } = options;
  const folds: BacktestFold[] = [];
  for (let w = weeks; w >= 1; w--) {
    const origin = values.length - WEEK * w;
    const trainEnd = origin - gap;
    if (trainEnd < minTrain) continue;
    const train = values.slice(0, trainEnd);
    const forecasts: Record<string, number[]> = {};
    for (const model of models) {
      forecasts[model.name] = model
        .fit(train, startDow)
        .predict(gap + WEEK)
        .slice(gap);
    }
    folds.push({ origin, actual: values.slice(origin, origin + WEEK), forecasts });
  }
  return folds;
}

/**
 * The error metric reported as "MAPE": WAPE, the sum of absolute errors over
 * the sum of actuals (a fraction: 0.08 is 8%). Unlike a per-day MAPE it is
 * defined when some days are zero and does not blow up on small days; it
 * equals the count-weighted MAPE. `null` when the actuals sum to zero.
 *
 * @example wape([10, 0, 30], [12, 1, 27]); // (2 + 1 + 3) / 40 = 0.15
 */
export function wape(actual: readonly number[], forecast: readonly number[]): number | null {
  let absError = 0;
  let total = 0;
  actual.forEach((a, i) => {
    absError += Math.abs(a - at(forecast, i));
    total += Math.abs(a);
  });
  return total > 0 ? absError / total : null;
}

/** The WAPE of one model's forecasts pooled over the folds; `null` when it has none. */
export function foldsWape(folds: readonly BacktestFold[], name: string): number | null {
  const actual: number[] = [];
  const forecast: number[] = [];
  for (const fold of folds) {
    const f = fold.forecasts[name];
    if (!f) continue;
    actual.push(...fold.actual);
    forecast.push(...f);
  }
  return actual.length > 0 ? wape(actual, forecast) : null;
}
