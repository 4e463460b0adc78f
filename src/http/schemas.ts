import { Type, type TSchema } from 'typebox';

/** `{"error": {"code", "message", "details"}}`: the one error shape of the API. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    }),
  },
  { $id: 'Error' },
);

/** `?limit=&cursor=` of every listing. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

/** `{"data": [...], "next_cursor": "..." | null}`, newest first. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

export const IdParams = Type.Object({ id: Type.String() });

/** A timestamp: ISO 8601 in UTC on the way out. */
export const Timestamp = Type.String({ format: 'date-time' });

/** The error answers every route may give, for the OpenAPI document. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error')]));
