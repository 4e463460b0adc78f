import { Type } from 'typebox';
import { PageQuery, Timestamp } from '../http/index.ts';
import {
  Condition,
  FormIdFilter,
  FormIdOrWorkspace,
  PolicyProperties,
  RateLimitPolicy,
  RetryPolicy,
  WorkspaceFormId,
} from '../integrations/index.ts';

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
    condition: Type.Optional(Condition),
    ...PolicyProperties,
  },
  { additionalProperties: false },
);

/** `POST /webhooks`: the body of `POST /forms/:id/webhooks` with an optional `form_id`. */
export const WorkspaceWebhookBody = Type.Object(
  { ...WebhookBody.properties, form_id: WorkspaceFormId },
  { additionalProperties: false },
);

/** `GET /webhooks`: a page of the workspace's webhooks, `form_id` narrows. */
export const WebhookListQuery = Type.Object({ ...PageQuery, form_id: FormIdFilter });

export const WebhookPatch = Type.Object(
  {
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    events: Type.Optional(Events),
    template: Type.Optional(Type.Unknown()),
    headers: Type.Optional(Headers),
    active: Type.Optional(Type.Boolean()),
    condition: Type.Optional(Condition),
    ...PolicyProperties,
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookSchema = Type.Object({
  id: Type.String(),
  form_id: FormIdOrWorkspace,
  url: Type.String(),
  events: Type.Array(Type.String()),
  template: Type.Unknown(),
  headers: Type.Record(Type.String(), Type.String(), {
    description:
      'Header names; every value reads back as "***" (send "***" back to keep a stored value)',
  }),
  active: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  condition: Condition,
  retry: RetryPolicy,
  rate_limit: RateLimitPolicy,
  created_at: Timestamp,
  updated_at: Timestamp,
  secret: Type.Optional(Type.String({ description: 'Shown on create and rotate-secret only' })),
});
