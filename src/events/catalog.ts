import { defaultPayloadSchema, FORM_EVENT_TYPES, type FormEventType } from '@formhub/sdk';
import type { TSchema } from 'typebox';
import type { OpenAPIV3_2 } from '@fastify/swagger';

/** One entry of the event catalog (`GET /api/v2/event-types`). */
export interface EventTypeEntry {
  type: FormEventType;
  description: string;
  /** The JSON Schema of the default payload: the SDK's, which builds that payload too. */
  schema: TSchema;
}

/**
 * What each event a webhook can receive means. Keyed by the SDK's `FormEventType`, so a
 * new deliverable event type cannot compile without its entry.
 */
const DESCRIPTIONS: Readonly<Record<FormEventType, string>> = {
  'response.submitted':
    'A response was completed: submitted complete, or a partial response completed by PATCH.',
  'response.updated': 'A response was changed (PATCH) without being completed by that change.',
  'response.deleted': 'A response was deleted (soft delete); the payload carries its last state.',
  'analytics.anomaly':
    "A day's count of completed responses fell far outside what the forecast expected.",
  ping: 'A test (POST /webhooks/:id/test or /integrations/:id/test): an empty example response marked metadata.test.',
};

/**
 * Every event type a webhook or integration can receive (the SDK's list, which the
 * delivery engine dispatches on), with the schema of its default payload.
 */
export function eventCatalog(): EventTypeEntry[] {
  return FORM_EVENT_TYPES.map((type) => ({
    type,
    description: DESCRIPTIONS[type],
    schema: defaultPayloadSchema(type),
  }));
}

/**
 * The catalog as OpenAPI 3.1 `webhooks`: one POST per event type whose body is its
 * default payload, for receivers that generate code from the document.
 */
export function openApiWebhooks(): Record<string, OpenAPIV3_2.PathItemObject> {
  return Object.fromEntries(
    eventCatalog().map(({ type, description, schema }) => [
      type,
      {
        post: {
          summary: description,
          operationId: `webhook.${type}`,
          tags: ['webhooks'],
          requestBody: {
            required: true,
            description: 'The default payload (a webhook with a template sends its own body)',
            content: { 'application/json': { schema } },
          },
          responses: {
            '2XX': { description: 'Delivered; any other answer fails the attempt (retried)' },
            '410': { description: 'Disables the webhook' },
          },
        },
      },
    ]),
  );
}
