export { IntegrationService, type WebhookInput, type IntegrationInput } from './service.ts';
export {
  activeIntegrationsOf,
  disableIntegration,
  findIntegrationById,
  markFailing,
  markHealthy,
  type IntegrationRow,
  type WorkerIntegrationRow,
} from './queries.ts';
export { presentWebhook, presentIntegration } from './present.ts';
export { createCredentialsResolver, type CredentialsResolver } from './credentials.ts';
export { integrationRoutes } from './routes.ts';
