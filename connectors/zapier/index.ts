import {
  flattenResponse,
  FormPlugin,
  GoneError,
  parseRetryAfter,
  RetryableError,
  type FormEvent,
  type PluginContext,
} from '@formhub/sdk';

export interface ZapierHookConfig {
  target_url: string;
}

/**
 * Zapier REST hooks: POSTs each response as one flat object to the Zap's target URL.
 * A 410 means the Zap was turned off: the subscription is removed.
 */
export default class ZapierPlugin extends FormPlugin<ZapierHookConfig> {
  readonly metadata = {
    id: 'zapier',
    name: 'Zapier',
    version: '1.0.0',
    description: 'REST-hook subscriptions made by the formhub Zapier app.',
    configSchema: {
      type: 'object',
      required: ['target_url'],
      additionalProperties: false,
      properties: { target_url: { type: 'string', description: "The Zap's hook URL" } },
    },
  };

  override onResponseSubmitted = send;
  override onResponseUpdated = send;
  override onResponseDeleted = send;
  override onTest = send;
}

async function send(event: FormEvent, ctx: PluginContext<ZapierHookConfig>): Promise<void> {
  const res = await ctx.http.request({
    url: ctx.config.target_url,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'formhub-zapier/1.0' },
    body: JSON.stringify(flattenResponse(event.response)),
  });
  if (res.status >= 200 && res.status < 300) return;
  if (res.status === 410) throw new GoneError('Zapier answered 410: the Zap unsubscribed');
  const retryAfterMs =
    res.status === 429 ? (parseRetryAfter(res.headers['retry-after']) ?? undefined) : undefined;
  throw new RetryableError(`Zapier answered ${res.status}`, {
    statusCode: res.status,
    retryAfterMs,
  });
}
