import { Type } from 'typebox';
import { PageQuery, Timestamp } from '../http/index.ts';
import { JsonObject } from '../responses/index.ts';

const Events = Type.Array(Type.String(), { minItems: 1, maxItems: 10 });

/** A condition (DESIGN.md section 4a): a filter in the grammar of the analytics `filter`. */
export const Condition = Type.Union([JsonObject, Type.Null()], {
  description:
    'Only events whose response matches this filter (the analytics filter grammar) are delivered; null: every event',
});

/** A retry schedule of its own (DESIGN.md section 4a); null: WEBHOOK_RETRY_SCHEDULE. */
export const RetryPolicy = Type.Union(
  [
    Type.Object(
      { schedule: Type.Array(Type.String({ maxLength: 32 }), { maxItems: 20 }) },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  {
    description:
      'Delays between attempts (ms, s, m, h, d; at most 20, 7 days in all), e.g. ["10s", "1m", "1h"]; null: the hub default',
  },
);

/** A rate limit of its own (DESIGN.md section 4a); null: none (Zapier hooks: 30/s per workspace). */
export const RateLimitPolicy = Type.Union(
  [
    Type.Object(
      { per_second: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  {
    description:
      'Deliveries per second at most; more wait (no attempt is made or counted). null: no limit, or for Zapier hooks 30 per second shared by the workspace',
  },
);

/** The delivery policy properties of create and PATCH bodies. */
export const PolicyProperties = {
  retry: Type.Optional(RetryPolicy),
  rate_limit: Type.Optional(RateLimitPolicy),
};

export const IntegrationBody = Type.Object(
  {
    connector: Type.String({ minLength: 1, maxLength: 64 }),
    config: JsonObject,
    connection_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    provider_config_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    events: Type.Optional(Events),
    active: Type.Optional(Type.Boolean()),
    condition: Type.Optional(Condition),
    ...PolicyProperties,
  },
  { additionalProperties: false },
);

/**
 * What a workspace-wide route (`POST /webhooks`, `POST /integrations`, DESIGN.md section 4a)
 * takes besides the per-form body: an optional form; without it (or null) the integration
 * fires for every form of the workspace, forms created later included.
 */
export const WorkspaceFormId = Type.Optional(
  Type.Union([Type.String(), Type.Null()], {
    description:
      'A form of the workspace (404 otherwise); omitted or null: every form of the workspace, forms created later included',
  }),
);

/** The narrowing of a workspace listing (`GET /webhooks`, `GET /integrations`). */
export const FormIdFilter = Type.Optional(
  Type.String({
    description:
      "Only this form's own integrations (workspace-wide ones are not listed); 404 when it is not a form of the workspace",
  }),
);

/** An integration's form in an answer; null for a workspace-wide one. */
export const FormIdOrWorkspace = Type.Union([Type.String(), Type.Null()], {
  description:
    'The form it fires for; null: workspace-wide, it fires for every form of the workspace',
});

/** `POST /integrations`: the body of `POST /forms/:id/integrations` with an optional `form_id`. */
export const WorkspaceIntegrationBody = Type.Object(
  { ...IntegrationBody.properties, form_id: WorkspaceFormId },
  { additionalProperties: false },
);

/** `GET /integrations`: a page of the workspace's integrations, `form_id` narrows. */
export const IntegrationListQuery = Type.Object({ ...PageQuery, form_id: FormIdFilter });

export const IntegrationPatch = Type.Object(
  {
    config: Type.Optional(JsonObject),
    connection_id: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]),
    ),
    provider_config_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    events: Type.Optional(Events),
    active: Type.Optional(Type.Boolean()),
    condition: Type.Optional(Condition),
    ...PolicyProperties,
  },
  { additionalProperties: false, minProperties: 1 },
);

export const IntegrationSchema = Type.Object({
  id: Type.String(),
  form_id: FormIdOrWorkspace,
  connector: Type.String(),
  config: JsonObject,
  events: Type.Array(Type.String()),
  connection_id: Type.Union([Type.String(), Type.Null()]),
  provider_config_key: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union(
    [Type.Literal('active'), Type.Literal('disabled'), Type.Literal('needs_update')],
    {
      description:
        'needs_update: a new major version of its connector refuses its config; not delivered to until a PATCH gives a valid one',
    },
  ),
  needs_update_reason: Type.Union([Type.String(), Type.Null()]),
  connector_version: Type.Union([Type.String(), Type.Null()], {
    description: 'The connector version its config was last validated with',
  }),
  condition: Condition,
  retry: RetryPolicy,
  rate_limit: RateLimitPolicy,
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
  source: Type.Union(
    [Type.Literal('builtin'), Type.Literal('plugins_dir'), Type.Literal('package')],
    {
      description:
        'Where the hub found it: shipped with the hub, a folder of PLUGINS_DIR, or an installed npm package',
    },
  ),
  package: Type.Union([Type.Object({ name: Type.String(), version: Type.String() }), Type.Null()], {
    description: 'The npm package it came from (source "package"), else null',
  }),
});
