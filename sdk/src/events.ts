import type { Static } from 'typebox';
import type { AnomalySchema, FormResponseSchema } from './payload-schemas.ts';

/**
 * The events a plugin can handle. `ping` is a test event (`POST /webhooks/:id/test`,
 * `POST /integrations/:id/test`): its response is an empty example marked `metadata.test`.
 * `analytics.anomaly` reports an anomalous day (`event.anomaly`); its response is an empty
 * placeholder.
 */
export const FORM_EVENT_TYPES = [
  'response.submitted',
  'response.updated',
  'response.deleted',
  'analytics.anomaly',
  'ping',
] as const;

export type FormEventType = (typeof FORM_EVENT_TYPES)[number];

/** A day whose count fell far outside what the forecast model expected. */
export type AnomalyInfo = Static<typeof AnomalySchema>;

/** A response as the hub's API shows it (its schema is the one webhooks document). */
export type FormResponse = Static<typeof FormResponseSchema>;

/**
 * What a plugin receives: one event about one response.
 *
 * @example
 * const event: FormEvent = {
 *   id: 'evt', type: 'response.submitted', created_at: '2026-11-28T10:00:00.000Z',
 *   form: { id: 'f1', title: 'Contact' }, response: { ...sampleResponse }, data: sampleResponse.data,
 * };
 */
export interface FormEvent {
  /** The event's id; the same event is never delivered to one integration under two ids. */
  id: string;
  type: FormEventType;
  created_at: string;
  form: { id: string; title: string };
  response: FormResponse;
  /** Shortcut for `response.data`, for templates: `{{data.email}}`. */
  data: Record<string, unknown>;
  /** Only on `analytics.anomaly` events. */
  anomaly?: AnomalyInfo;
}
