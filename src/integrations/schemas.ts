import { Type } from 'typebox';
import { Timestamp } from '../http/schemas.ts';
import { JsonObject } from '../responses/schemas.ts';

const Events = Type.Array(Type.String(), { minItems: 1, maxItems: 10 });
const Headers = Type.Record(Type.String(), Type.String());

export const WebhookBody = Type.Object(
  {
    url: Type.String({ maxLength: 2048 }),
    events: Type.Optional(Events),
    template: Type.Optional(
      Type.Unknown({ description: 'JSON whose strings are mustache templates' }),
    ),
    headers: Type.Optional(Headers),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const WebhookPatch = Type.Object(
  {
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    events: Type.Optional(Events),
    template: Type.Optional(Type.Unknown()),
    headers: Type.Optional(Headers),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookSchema = Type.Object({
  id: Type.String(),
  form_id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  template: Type.Unknown(),
  headers: Type.Record(Type.String(), Type.String(), {
    description:
      'Header names; every value reads back as "***" (send "***" back to keep a stored value)',
  }),
  active: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  secret: Type.Optional(Type.String({ description: 'Shown on create and rotate-secret only' })),
});

export const IntegrationBody = Type.Object(
  {
    connector: Type.String({ minLength: 1, maxLength: 64 }),
    config: JsonObject,
    connection_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    provider_config_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    events: Type.Optional(Events),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const IntegrationPatch = Type.Object(
  {
    config: Type.Optional(JsonObject),
    connection_id: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]),
    ),
    provider_config_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    events: Type.Optional(Events),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const IntegrationSchema = Type.Object({
  id: Type.String(),
  form_id: Type.String(),
  connector: Type.String(),
  config: JsonObject,
  events: Type.Array(Type.String()),
  connection_id: Type.Union([Type.String(), Type.Null()]),
  provider_config_key: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  secret: Type.Optional(
    Type.String({ description: 'Signing secret of a webhook integration, shown once' }),
  ),
});

export const ConnectorSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  version: Type.String(),
  description: Type.Optional(Type.String()),
  config_schema: JsonObject,
});
