export { IntegrationService, type IntegrationInput } from './service.ts';
export {
  activeIntegrationsOf,
  disableIntegration,
  findIntegrationById,
  markFailing,
  markHealthy,
  type IntegrationRow,
  type RelayIntegration,
  type WorkerIntegrationRow,
} from './queries.ts';
export { presentIntegration } from './present.ts';
export { reconcileConnectorVersions, type VersionReport } from './connector-versions.ts';
export { maskHeaders } from './masked-headers.ts';
export { createCredentialsResolver, type CredentialsResolver } from './credentials.ts';
export { integrationRoutes, type IntegrationRoutesOptions } from './routes.ts';
export {
  Condition,
  FormIdFilter,
  FormIdOrWorkspace,
  PolicyProperties,
  RateLimitPolicy,
  RetryPolicy,
  WorkspaceFormId,
} from './schemas.ts';
export { presentPolicy, type PolicyInput } from './delivery-policy.ts';
export { compileCondition, type ConditionForm } from './condition.ts';
