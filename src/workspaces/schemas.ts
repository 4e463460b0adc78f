import { Type } from 'typebox';
import { SCOPES } from '../common/index.ts';
import { Timestamp } from '../http/index.ts';

const ScopeName = Type.String({ enum: [...SCOPES], description: 'See docs/api.md, "Scopes"' });

/** Shown on keys: the scopes it has (all of them when made without `scopes`). */
const Scopes = Type.Array(ScopeName);

/** Shown on keys: the forms it may reach, or null for every form. */
const FormIds = Type.Union([Type.Array(Type.String()), Type.Null()], {
  description: 'The only forms this key reaches (404 for the others); null: every form',
});

export const CreateWorkspaceBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export const CreatedWorkspace = Type.Object({
  id: Type.String(),
  name: Type.String(),
  api_key: Type.String(),
});

export const CreateKeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  scopes: Type.Optional(
    Type.Array(ScopeName, {
      minItems: 1,
      maxItems: SCOPES.length,
      description: 'What the key may do; omitted: every scope',
    }),
  ),
  form_ids: Type.Optional(
    Type.Array(Type.String({ maxLength: 64 }), {
      minItems: 1,
      maxItems: 1000,
      description: 'The only forms the key may reach; omitted: every form',
    }),
  ),
});

export const CreatedKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key: Type.String({ description: 'Shown once; store it now.' }),
  prefix: Type.String(),
  created_at: Timestamp,
  scopes: Scopes,
  form_ids: FormIds,
});

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()]),
  scopes: Scopes,
  form_ids: FormIds,
});

const Days = Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()]);

export const Retention = Type.Object({
  deliveries_days: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Deliveries (and their attempt logs) older than this many days are deleted.',
  }),
  responses_days: Type.Union([Type.Integer(), Type.Null()], {
    description:
      'Responses submitted more than this many days ago are erased, with all that holds their data.',
  }),
});

export const WorkspaceSettings = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Timestamp,
  retention: Retention,
});

export const PatchWorkspaceBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    retention: Type.Optional(
      Type.Object(
        { deliveries_days: Type.Optional(Days), responses_days: Type.Optional(Days) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
