import type { FormEvent } from '@formhub/sdk';

/**
 * How an event is kept in `deliveries.payload`: the FormEvent without its `data`, which is
 * only a shortcut for `response.data` and would store (and make every attempt parse) the
 * answers twice.
 */
export function storedEvent(event: object): string {
  return JSON.stringify({ ...event, data: undefined });
}

/**
 * The FormEvent of a stored payload, `data` put back. Rows stored with `data` (before it
 * was left out) keep theirs.
 */
export function loadEvent(payload: Record<string, unknown>): FormEvent {
  const event = payload as unknown as FormEvent;
  event.data ??= event.response?.data ?? {};
  return event;
}
