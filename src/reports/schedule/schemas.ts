import { Type, type Static } from 'typebox';
import { Timestamp } from '../../http/index.ts';

const Frequency = Type.Union([
  Type.Literal('daily'),
  Type.Literal('weekly'),
  Type.Literal('monthly'),
]);
const Format = Type.Union([Type.Literal('pdf'), Type.Literal('csv'), Type.Literal('xlsx')]);
const Recipients = Type.Array(Type.String({ format: 'email', maxLength: 320 }), {
  minItems: 1,
  maxItems: 50,
});
const Filter = Type.Record(Type.String(), Type.Unknown());

export const CreateScheduledReportBody = Type.Object(
  {
    form_id: Type.String(),
    cron: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    frequency: Type.Optional(Frequency),
    timezone: Type.String({ minLength: 1, maxLength: 100 }),
    recipients: Recipients,
    format: Format,
    filter: Type.Optional(Type.Union([Filter, Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateScheduledReportInput = Static<typeof CreateScheduledReportBody>;

export const ScheduledReportSchema = Type.Object({
  id: Type.String(),
  form_id: Type.String(),
  cron: Type.Union([Type.String(), Type.Null()]),
  frequency: Type.Union([Frequency, Type.Null()]),
  timezone: Type.String(),
  recipients: Type.Array(Type.String()),
  format: Format,
  filter: Type.Union([Filter, Type.Null()]),
  next_run_at: Type.Union([Timestamp, Type.Null()]),
  last_run_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
});

export const ReportRunSchema = Type.Object({
  id: Type.String(),
  report_id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  manual: Type.Boolean(),
  period_start: Timestamp,
  period_end: Timestamp,
  recipients: Type.Array(Type.String()),
  size: Type.Union([Type.Integer(), Type.Null()]),
  attempts: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  started_at: Timestamp,
  finished_at: Type.Union([Timestamp, Type.Null()]),
});
