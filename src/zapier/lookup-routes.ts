import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { flattenResponse } from '@formhub/sdk';
import { FIELD_TYPES, type FormService } from '../forms/index.ts';
import {
  type AuthHooks,
  clientSignal,
  errorResponses,
  IdParams,
  workspaceOf,
  scoped,
} from '../http/index.ts';
import { JsonObject, presentResponse, type ResponseService } from '../responses/index.ts';
import { CALCULATED, fieldsOf, type ZapierField as ZapierFieldType } from './fields.ts';
import { SEARCH_LIMIT, searchWhere } from './search.ts';

export interface ZapierLookupRoutesOptions {
  forms: FormService;
  responses: ResponseService;
  auth: AuthHooks;
}

const tags = { security: [{ bearerAuth: [] }], tags: ['zapier'] };

const ZapierField = Type.Object({
  key: Type.String(),
  label: Type.String(),
  type: Type.Unsafe<ZapierFieldType['type']>(Type.String({ enum: [...FIELD_TYPES, CALCULATED] })),
});

/** A response as the hook delivers it: id, form_id, submitted_at, then each data key. */
const FlatResponse = Type.Unsafe<Record<string, unknown>>({
  ...JsonObject,
  required: ['id', 'form_id', 'submitted_at'],
  properties: {
    id: { type: 'string' },
    form_id: { type: 'string' },
    submitted_at: { type: 'string', format: 'date-time' },
  },
});

const SearchQuery = Type.Object({
  field: Type.String({ minLength: 1, maxLength: 64, description: 'A field key of the form' }),
  value: Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'Matched against the stored answer as the field type reads it',
  }),
});

/**
 * What the Zapier app reads about one form: its fields (dynamic output and input fields) and
 * "Find Response". Another workspace's form answers 404.
 */
export const zapierLookupRoutes: FastifyPluginAsyncTypebox<ZapierLookupRoutesOptions> = async (
  app,
  opts,
) => {
  const { forms, responses, auth } = opts;

  app.get(
    '/zapier/forms/:id/fields',
    {
      preHandler: auth.workspace,
      config: scoped('forms:read', 'param'),
      schema: {
        ...tags,
        summary: "The form's fields, for dynamic output and input fields",
        description:
          'The data keys of the flat payload in form order, then calculated fields ' +
          '(type "calculated"); the label is the key when the field has none.',
        params: IdParams,
        response: { 200: Type.Array(ZapierField), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => fieldsOf(await forms.get(workspaceOf(request), request.params.id)),
  );

  app.get(
    '/zapier/forms/:id/responses',
    {
      preHandler: auth.workspace,
      config: scoped('responses:read', 'param'),
      schema: {
        ...tags,
        summary: 'Find Response: completed responses whose answer matches, newest first',
        description: `At most ${SEARCH_LIMIT}, flat as the hook delivers them. See docs/zapier.md for how each field type matches.`,
        params: IdParams,
        querystring: SearchQuery,
        response: {
          200: Type.Array(FlatResponse),
          ...errorResponses(400, 401, 403, 404, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const workspaceId = workspaceOf(request);
      const form = await forms.get(workspaceId, request.params.id);
      const where = searchWhere(form, request.query.field, request.query.value);
      const rows = await responses.list(
        workspaceId,
        form.id,
        { limit: SEARCH_LIMIT, completed: true, where },
        clientSignal(reply),
      );
      return rows.map((row) => flattenResponse(presentResponse(row)));
    },
  );
};
