import type { TSchema } from 'typebox';
import { PermanentError } from './errors.ts';
import type { FormEvent, FormEventType } from './events.ts';
import { DEFAULT_PAYLOAD_SCHEMAS, type DefaultPayload } from './payload-schemas.ts';

// Typed by FormEventType so that a new event type without a payload schema fails to compile.
const schemas: Readonly<Record<FormEventType, TSchema>> = DEFAULT_PAYLOAD_SCHEMAS;

/**
 * The JSON Schema of an event type's default payload (what `defaultPayload` builds).
 *
 * @example
 * const schema = defaultPayloadSchema('response.submitted'); // { type: 'object', ... }
 */
export function defaultPayloadSchema(type: FormEventType): TSchema {
  return schemas[type];
}

/**
 * The body a webhook without a template receives (DESIGN.md, "Webhooks"). Its type is
 * the static type of `DEFAULT_PAYLOAD_SCHEMAS`, which the hub publishes as the event
 * catalog: what is built here is what is documented.
 *
 * @example
 * const body = JSON.stringify(defaultPayload(event, ctx.idempotencyKey));
 */
export function defaultPayload(event: FormEvent, deliveryId: string): DefaultPayload {
  const base = { delivery_id: deliveryId, created_at: event.created_at, form: event.form };
  if (event.type === 'analytics.anomaly') {
    if (!event.anomaly) throw new PermanentError('an analytics.anomaly event without its anomaly');
    return { ...base, event: event.type, anomaly: event.anomaly };
  }
  return { ...base, event: event.type, response: event.response };
}
