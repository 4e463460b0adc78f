export { EVENT_TYPES, PUBLIC_EVENT_TYPES, type EventType, type OutboxEvent } from './events.ts';
export { writeEvent, pendingEvents } from './outbox.ts';
