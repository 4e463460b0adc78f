import { Type } from 'typebox';
import { Timestamp } from '../http/index.ts';
import { EXPORT_FORMATS } from './formats.ts';

const Format = Type.Union(EXPORT_FORMATS.map((f) => Type.Literal(f)));
const DateOrDateTime = Type.String({
  description: 'ISO 8601 date or date-time (UTC when no zone is given)',
});

export const ExportQuery = Type.Object({
  format: Format,
  fields: Type.Optional(
    Type.String({ description: 'comma-separated data keys: exactly these columns, in this order' }),
  ),
  filter: Type.Optional(Type.String({ description: 'a query DSL filter, as JSON' })),
  since: Type.Optional(DateOrDateTime),
  until: Type.Optional(DateOrDateTime),
  bom: Type.Optional(
    Type.Boolean({ description: 'CSV: start with a UTF-8 byte order mark (for Excel)' }),
  ),
});

export const ExportJobBody = Type.Object(
  {
    format: Format,
    fields: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    filter: Type.Optional(
      Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })]),
    ),
    since: Type.Optional(DateOrDateTime),
    until: Type.Optional(DateOrDateTime),
    bom: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ExportJobSchema = Type.Object({
  id: Type.String(),
  form_id: Type.String(),
  format: Type.String(),
  status: Type.Union([
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('expired'),
  ]),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  total: Type.Union([Type.Integer(), Type.Null()]),
  size: Type.Union([Type.Integer(), Type.Null()]),
  file_name: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  download_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  finished_at: Type.Union([Timestamp, Type.Null()]),
  expires_at: Type.Union([Timestamp, Type.Null()], {
    description: 'when the file is deleted (EXPORT_TTL after it was made)',
  }),
});
