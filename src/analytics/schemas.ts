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
