/**
 * The events a plugin can handle. `ping` is a test event (`POST /webhooks/:id/test`,
 * `POST /integrations/:id/test`): its response is an empty example marked `metadata.test`.
 * `analytics.anomaly` reports an anomalous day (`event.anomaly`); its response is an empty
 * placeholder.
 */
export type FormEventType =
  'response.submitted' | 'response.updated' | 'response.deleted' | 'analytics.anomaly' | 'ping';

/** A day whose count fell far outside what the forecast model expected. */
export interface AnomalyInfo {
  date: string;
  count: number;
  expected: number;
}

/** A response as the hub's API shows it. */
export interface FormResponse {
  id: string;
  form_id: string;
  data: Record<string, unknown>;
  completed: boolean;
  submitted_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
}

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
