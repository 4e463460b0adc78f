import { Type } from 'typebox';

const Series = Type.Array(Type.Object({ t: Type.String(), count: Type.Integer() }));

export const MetricsSchema = Type.Object({
  form_id: Type.String(),
  total: Type.Integer(),
  completed: Type.Integer(),
  partial: Type.Integer(),
  today: Type.Integer(),
  completion_rate: Type.Number(),
  timeseries: Type.Object({ hour: Series, day: Series, month: Series }),
  fields: Type.Record(
    Type.String(),
    Type.Object({ answered: Type.Integer(), counts: Type.Record(Type.String(), Type.Integer()) }),
  ),
});

export const PredictQuery = Type.Object({ form_id: Type.Optional(Type.String()) });

export const PredictionSchema = Type.Object({
  forecast: Type.Array(
    Type.Object({
      date: Type.String(),
      expected: Type.Integer(),
      low: Type.Integer(),
      high: Type.Integer(),
    }),
  ),
  total: Type.Integer(),
  model: Type.Object({
    kind: Type.String(),
    trained_at: Type.String(),
    training_days: Type.Integer(),
    mape: Type.Union([Type.Number(), Type.Null()], {
      description: 'Backtest error (WAPE) over the last 4 weeks',
    }),
    baseline_mape: Type.Union([Type.Number(), Type.Null()], {
      description: 'The same for the seasonal-naive forecast',
    }),
  }),
});

export const TrendsSchema = Type.Object({
  this_week: Type.Integer(),
  last_week: Type.Integer(),
  change: Type.Union([Type.Number(), Type.Null()]),
  anomalies: Type.Array(
    Type.Object({ date: Type.String(), count: Type.Integer(), expected: Type.Integer() }),
  ),
});
