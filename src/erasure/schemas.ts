import { Type } from 'typebox';
import { Timestamp } from '../http/index.ts';

const Match = Type.Object(
  {},
  {
    additionalProperties: true,
    minProperties: 1,
    description:
      'A query DSL filter (the `filter` of analytics queries): the responses to erase. At least one condition.',
  },
);

export const CreateErasureBody = Type.Object(
  {
    form_id: Type.Optional(
      Type.String({ description: 'One form; without it every form of the workspace' }),
    ),
    match: Match,
  },
  { additionalProperties: false },
);

export const ErasureCounts = Type.Object(
  {
    responses: Type.Integer(),
    events: Type.Integer(),
    deliveries: Type.Integer(),
    attempts: Type.Integer(),
    idempotency_records: Type.Integer(),
    export_files: Type.Integer(),
  },
  { description: 'What was deleted so far, per kind (final once `status` is `succeeded`)' },
);

export const ErasureStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
]);

export const QueuedErasure = Type.Object({ id: Type.String(), status: ErasureStatus });

export const Erasure = Type.Object({
  id: Type.String(),
  status: ErasureStatus,
  form_id: Type.Union([Type.String(), Type.Null()]),
  match: Type.Object({}, { additionalProperties: true }),
  created_at: Timestamp,
  finished_at: Type.Union([Timestamp, Type.Null()]),
  counts: ErasureCounts,
  error: Type.Union([Type.String(), Type.Null()]),
});
