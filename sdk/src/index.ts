/**
 * @formhub/sdk: everything a connector plugin needs, and nothing from the hub itself.
 *
 * @example
 * import { FormPlugin, RetryableError, type FormEvent, type PluginContext } from '@formhub/sdk';
 */
export {
  FormPlugin,
  hookFor,
  isFormPlugin,
  type PluginMetadata,
  type JsonSchema,
} from './plugin.ts';
export {
  FORM_EVENT_TYPES,
  type AnomalyInfo,
  type FormEvent,
  type FormEventType,
  type FormResponse,
} from './events.ts';
export type {
  PluginContext,
  HttpClient,
  HttpRequest,
  HttpResponse,
  PluginLogger,
  Credentials,
} from './context.ts';
export {
  AnomalySchema,
  DEFAULT_PAYLOAD_SCHEMAS,
  FormResponseSchema,
  type DefaultPayload,
} from './payload-schemas.ts';
export { defaultPayload, defaultPayloadSchema } from './default-payload.ts';
export { RetryableError, PermanentError, GoneError } from './errors.ts';
export { flattenResponse } from './flatten.ts';
export {
  generateWebhookSecret,
  secretKey,
  signatureHeaders,
  verifyWebhookSignature,
  SECRET_PREFIX,
  type SignatureInput,
  type VerifyInput,
  type HeaderBag,
} from './signing.ts';
export {
  compileTemplate,
  renderTemplate,
  validateTemplate,
  TemplateError,
  type CompiledTemplate,
  type TemplateIssue,
  type TemplateView,
} from './template.ts';
export { TEMPLATE_LIMITS, TemplateRenderError, templateBoundIssues } from './template-limits.ts';
export { parseRetryAfter } from './retry-after.ts';
export { runPlugin, sampleEvent, type HarnessResult, type HarnessOptions } from './harness.ts';
export {
  connectorContract,
  type ConnectorFixture,
  type ContractCase,
  type FakeAnswer,
  type ServiceFake,
} from './contract.ts';
export {
  startFakeService,
  type FakeReply,
  type FakeRequest,
  type FakeService,
  type FakeServiceOptions,
} from './fake-service.ts';
export {
  configSchemaProblems,
  hasWriteOnly,
  metadataProblems,
  writeOnlySecrets,
  CONNECTOR_ID,
  type ConfigSecret,
} from './metadata-problems.ts';
