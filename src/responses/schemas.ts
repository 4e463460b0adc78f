import { Type } from 'typebox';
import { PageQuery, Timestamp } from '../http/index.ts';

/** A JSON object of any keys. */
export const JsonObject = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  additionalProperties: true,
});

export const SubmitBody = Type.Object(
  {
    data: JsonObject,
    completed: Type.Optional(
      Type.Boolean({ description: 'false keeps it partial and returns a resume_token' }),
    ),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);

export const PatchBody = Type.Object(
  {
    data: Type.Optional(JsonObject),
    completed: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);

const responseProperties = {
  id: Type.String(),
  form_id: Type.String(),
  data: JsonObject,
  completed: Type.Boolean(),
  submitted_at: Timestamp,
  updated_at: Timestamp,
  metadata: JsonObject,
};

export const ResponseSchema = Type.Object(responseProperties);

export const SubmittedResponseSchema = Type.Object({
  ...responseProperties,
  resume_token: Type.Optional(
    Type.String({
      description: 'Only for a partial response: send it as X-Resume-Token to continue it.',
    }),
  ),
});

const DateOrDateTime = Type.String({
  description: 'ISO 8601 date or date-time (UTC when no zone is given)',
});

export const ListQuery = Type.Object({
  ...PageQuery,
  since: Type.Optional(DateOrDateTime),
  until: Type.Optional(DateOrDateTime),
  completed: Type.Optional(Type.Boolean()),
  fields: Type.Optional(Type.String({ description: 'comma-separated data keys to keep' })),
  filter: Type.Optional(Type.String({ description: 'a query DSL filter, as JSON' })),
});

export const SubmitHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

export const PatchHeaders = Type.Object({
  'x-resume-token': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
