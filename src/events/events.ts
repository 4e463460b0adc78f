import type { TraceCarrier } from '../tracing/index.ts';

/**
 * The events a response raises. The first three are the public contract (DESIGN.md,
 * "Responses"); `response.started` marks a new partial response, for analytics: no
 * integration subscribes to it.
 */
export const EVENT_TYPES = [
  'response.submitted',
  'response.updated',
  'response.deleted',
  'response.started',
  'analytics.anomaly',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The events integrations may subscribe to. */
export const PUBLIC_EVENT_TYPES: readonly EventType[] = [
  'response.submitted',
  'response.updated',
  'response.deleted',
  'analytics.anomaly',
];

/** One event, as written to the outbox in the same transaction as the change it records. */
export interface OutboxEvent {
  id: string;
  workspaceId: string;
  formId: string;
  type: EventType;
  /** A snapshot of what changed, e.g. `{ response: Response }`. */
  payload: Record<string, unknown>;
  createdAt: Date;
  /** W3C trace context of the work that raised it (tracing on), else null or absent. */
  traceContext?: TraceCarrier | null;
}
