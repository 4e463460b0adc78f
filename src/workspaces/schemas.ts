import { Type } from 'typebox';
import { Timestamp } from '../http/index.ts';

export const CreateWorkspaceBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export const CreatedWorkspace = Type.Object({
  id: Type.String(),
  name: Type.String(),
  api_key: Type.String(),
});

export const CreateKeyBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

export const CreatedKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key: Type.String({ description: 'Shown once; store it now.' }),
  prefix: Type.String(),
  created_at: Timestamp,
});

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()]),
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
