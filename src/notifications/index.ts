/**
 * Notification channels (DESIGN.md section 4b): operational events (`integration.disabled`,
 * `integration.recovered`, `delivery.dead`), written by database triggers in the same
 * statement as the change (migration 0014), sent by the worker's notifier to the
 * workspace's e-mail, webhook and Slack channels. Details: docs/notifications.md.
 */
export { notificationRoutes, type NotificationRoutesOptions } from './routes.ts';
export { NotificationService, presentChannel } from './service.ts';
export { startNotifications } from './start-notifications.ts';
export {
  deleteExpiredOperationalEvents,
  startOperationalEventRetention,
  DEFAULT_EVENT_RETENTION_DAYS,
} from './retention.ts';
export { Notifier, MAX_SEND_RETRIES } from './notifier.ts';
export {
  checkChannel,
  OPERATIONAL_EVENT_TYPES,
  CHANNEL_KINDS,
  type ChannelInput,
  type OperationalEventType,
} from './channel-input.ts';
export { payloadOf, emailOf, slackTextOf, type OperationalPayload } from './message.ts';
