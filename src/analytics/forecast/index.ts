export {
  trainModel,
  forecastTotal,
  type TrainedModel,
  type ForecastPoint,
  type TrainOptions,
} from './forecast.ts';
export {
  detectAnomalies,
  robustExpectation,
  weekOverWeek,
  type Anomaly,
  type AnomalyOptions,
  type WeekOverWeek,
} from './anomalies.ts';
export {
  CANDIDATE_MODELS,
  holtWintersAdditive,
  linearTrendSeasonal,
  seasonalNaive,
  robustSeasonalLevel,
  type FittedModel,
  type ForecastModel,
} from './models.ts';
export {
  foldsWape,
  rollingOrigin,
  wape,
  type BacktestFold,
  type BacktestOptions,
} from './backtest.ts';
export { addDays, dayOfWeek, fillGaps, utcDate, type DailyCount } from './series.ts';
