import { Type } from 'typebox';
import { Timestamp } from '../http/index.ts';

const EventType = Type.Union([
  Type.Literal('integration.disabled'),
  Type.Literal('integration.recovered'),
  Type.Literal('delivery.dead'),
]);
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);

export const ChannelBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('email'), Type.Literal('webhook'), Type.Literal('slack')]),
    target: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'An e-mail address, an http(s) URL, or a Slack channel name (#alerts) or id',
    }),
    events: Type.Optional(
      Type.Array(EventType, {
        minItems: 1,
        maxItems: 3,
        description: 'Which operational events to send (default: all three)',
      }),
    ),
    config: Type.Optional(
      Type.Object(
        {
          token: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 512,
              description:
                'A Slack channel’s bot token (xoxb-...): stored encrypted, never answered',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ChannelSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  target: Type.String(),
  events: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('failing')]),
  failing_since: Nullable(Timestamp),
  last_error: Nullable(Type.String()),
  created_at: Timestamp,
  secret: Type.Optional(
    Type.String({ description: 'A webhook channel’s signing secret: only in the create answer' }),
  ),
});

const Send = Type.Object({
  channel_id: Type.String(),
  kind: Nullable(Type.String()),
  target: Nullable(Type.String()),
  status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  last_error: Nullable(Type.String()),
  next_attempt_at: Nullable(Timestamp),
  sent_at: Nullable(Timestamp),
});

export const OperationalEventSchema = Type.Object({
  type: EventType,
  id: Type.String(),
  created_at: Timestamp,
  workspace_id: Type.String(),
  integration: Type.Object({
    id: Type.String(),
    connector: Type.String(),
    url: Type.Optional(Type.String()),
  }),
  delivery: Type.Optional(Type.Object({ id: Type.String(), event: Type.String() })),
  reason: Type.Optional(Type.String()),
  sends: Type.Array(Send),
});
