/**
 * Webhooks: the `/forms/:id/webhooks` and `/webhooks/:id` API over the `webhook` connector's
 * integrations. Delivery (signing, retries) is the delivery engine's and connectors/webhook's.
 */
export { WebhookService, type WebhookInput } from './service.ts';
export { webhookRoutes, type WebhookRoutesOptions } from './routes.ts';
export { presentWebhook } from './present.ts';
