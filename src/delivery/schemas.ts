import { Type } from 'typebox';
import { PageQuery, Timestamp } from '../http/index.ts';

export const DeliveryStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('dead'),
]);

export const AttemptSchema = Type.Object({
  number: Type.Integer(),
  at: Timestamp,
  status_code: Type.Integer({ description: '0 for a network error or timeout' }),
  latency_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  response_excerpt: Type.Union([Type.String(), Type.Null()]),
  manual: Type.Boolean(),
});

export const DeliverySchema = Type.Object({
  id: Type.String(),
  webhook_id: Type.String(),
  integration_id: Type.String(),
  event: Type.String(),
  event_id: Type.String(),
  status: DeliveryStatusSchema,
  created_at: Timestamp,
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  attempts: Type.Array(AttemptSchema),
});

export const DeliveryListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(DeliveryStatusSchema),
});

export const ReplayRangeBody = Type.Object(
  {
    since: Type.String({ format: 'date-time' }),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    status: Type.Optional(DeliveryStatusSchema),
  },
  { additionalProperties: false },
);
