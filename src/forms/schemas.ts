import { Type, type Static } from 'typebox';
import { Timestamp } from '../http/index.ts';
import { FIELD_KEY_PATTERN, FIELD_TYPES, type FieldType } from './field.ts';

export const FieldSchema = Type.Object(
  {
    key: Type.String({ pattern: FIELD_KEY_PATTERN }),
    type: Type.Unsafe<FieldType>({ type: 'string', enum: [...FIELD_TYPES] }),
    label: Type.Optional(Type.String({ maxLength: 2000 })),
    required: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 1000 })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    max_length: Type.Optional(Type.Integer({ minimum: 1 })),
    pattern: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const CalculatedFieldSchema = Type.Object(
  { key: Type.String({ pattern: FIELD_KEY_PATTERN }), logic: Type.Unknown() },
  { additionalProperties: false },
);

const Status = Type.Union([Type.Literal('draft'), Type.Literal('published')]);
const Title = Type.String({ minLength: 1, maxLength: 500 });
const Description = Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()]);

export const CreateFormBody = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    status: Type.Optional(Status),
    fields: Type.Array(FieldSchema, { maxItems: 500 }),
    calculated_fields: Type.Optional(Type.Array(CalculatedFieldSchema, { maxItems: 100 })),
  },
  { additionalProperties: false },
);

export const UpdateFormBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    status: Type.Optional(Status),
    fields: Type.Optional(Type.Array(FieldSchema, { maxItems: 500 })),
    calculated_fields: Type.Optional(Type.Array(CalculatedFieldSchema, { maxItems: 100 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const FormSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: Status,
  version: Type.Integer(),
  fields: Type.Array(FieldSchema),
  calculated_fields: Type.Array(CalculatedFieldSchema),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const PublicFormSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer(),
  fields: Type.Array(FieldSchema),
});

export type CreateFormInput = Static<typeof CreateFormBody>;
export type UpdateFormInput = Static<typeof UpdateFormBody>;
