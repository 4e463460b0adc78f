export { EVENT_TYPES, PUBLIC_EVENT_TYPES, type EventType, type OutboxEvent } from './events.ts';
export { traceContextOf, writeEvent } from './outbox.ts';
export {
  hasPendingEvents,
  lockPendingEvents,
  markDispatched,
  pendingEvents,
  formTitles,
} from './queries.ts';
export { eventCatalog, openApiWebhooks, type EventTypeEntry } from './catalog.ts';
export { eventTypeRoutes } from './routes.ts';
export { OutboxSignal, type OutboxWakeSource } from './outbox-signal.ts';
export { OutboxNotifier, OUTBOX_CHANNEL, type OutboxCommits } from './outbox-notifier.ts';
