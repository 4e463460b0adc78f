import { Type, type Static } from 'typebox';

/*
 * The JSON Schemas of what a webhook receives by default. The types plugins see
 * (`FormResponse`, `AnomalyInfo`) and the builder of the default payload
 * (`defaultPayload`) derive from these schemas, and the hub publishes the same objects
 * (`GET /api/v2/event-types`, the OpenAPI `webhooks`): one source, so the documented
 * payload cannot drift from the sent one.
 */

/** An ISO 8601 timestamp in UTC. */
const Timestamp = Type.String({ format: 'date-time' });

/** A JSON object of any keys (answers and metadata are the form's own). */
const JsonObject = Type.Unsafe<Record<string, unknown>>({ type: 'object' });

/** A response as the hub's API shows it. */
export const FormResponseSchema = Type.Object(
  {
    id: Type.String({ description: "The response's id" }),
    form_id: Type.String(),
    data: Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      description: "The answers by field key, the form's calculated fields included",
    }),
    completed: Type.Boolean({ description: 'false for a partial response' }),
    submitted_at: Timestamp,
    updated_at: Timestamp,
    metadata: JsonObject,
  },
  { additionalProperties: false },
);

/** A day whose count fell far outside what the forecast model expected. */
export const AnomalySchema = Type.Object(
  {
    date: Type.String({ description: 'The day (YYYY-MM-DD, UTC)' }),
    count: Type.Number({ description: 'Completed responses that day' }),
    expected: Type.Number({ description: "The forecast model's expectation" }),
  },
  { additionalProperties: false },
);

const FormRef = Type.Object(
  { id: Type.String(), title: Type.String() },
  { additionalProperties: false },
);

/** What every default payload starts with; `event` is the event type itself. */
function envelope<T extends string>(type: T) {
  return {
    event: Type.Literal(type),
    delivery_id: Type.String({
      description: 'The delivery id: the same on every attempt (X-Webhook-Id, webhook-id)',
    }),
    created_at: Timestamp,
    form: FormRef,
  };
}

function responsePayload<T extends string>(type: T) {
  return Type.Object(
    { ...envelope(type), response: FormResponseSchema },
    { additionalProperties: false },
  );
}

/**
 * The default payload (no template) of each event type, by type: a response event carries
 * the response, `analytics.anomaly` the anomaly, `ping` (a test) an empty example response
 * marked `metadata.test`.
 */
export const DEFAULT_PAYLOAD_SCHEMAS = {
  'response.submitted': responsePayload('response.submitted'),
  'response.updated': responsePayload('response.updated'),
  'response.deleted': responsePayload('response.deleted'),
  'analytics.anomaly': Type.Object(
    { ...envelope('analytics.anomaly'), anomaly: AnomalySchema },
    { additionalProperties: false },
  ),
  ping: responsePayload('ping'),
};

/** The default payload of one event type (all of them when `T` is left out). */
export type DefaultPayload<
  T extends keyof typeof DEFAULT_PAYLOAD_SCHEMAS = keyof typeof DEFAULT_PAYLOAD_SCHEMAS,
> = Static<(typeof DEFAULT_PAYLOAD_SCHEMAS)[T]>;
