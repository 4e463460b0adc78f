import {
  defaultPayload,
  FormPlugin,
  GoneError,
  parseRetryAfter,
  RetryableError,
  signatureHeaders,
  type FormEvent,
  type PluginContext,
} from '@formhub/sdk';

export interface WebhookConfig {
  url: string;
  template?: unknown;
  headers?: Record<string, string>;
}

/**
 * Webhook 2.0: POSTs each event as JSON (the default payload, or the integration's
 * template rendered over the event), signed with HMAC-SHA256 in formhub's headers and the
 * Standard Webhooks headers. Success is a 2xx; a 410 disables the webhook; a 429's
 * Retry-After is honoured; redirects are failures (never followed).
 */
export default class WebhookPlugin extends FormPlugin<WebhookConfig> {
  readonly metadata = {
    id: 'webhook',
    name: 'Webhook',
    version: '1.0.0',
    description: 'Signed HTTP POSTs with optional payload templates (Webhook 2.0).',
    configSchema: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', description: 'The receiver (http or https)' },
        template: {
          description:
            'JSON whose strings are mustache templates over {event, form, response, data}',
        },
        headers: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Extra request headers',
        },
      },
    },
  };

  override onResponseSubmitted = send;
  override onResponseUpdated = send;
  override onResponseDeleted = send;
  override onTest = send;
  override onAnomaly = send;
}

async function send(event: FormEvent, ctx: PluginContext<WebhookConfig>): Promise<void> {
  const payload =
    ctx.config.template === undefined
      ? defaultPayload(event, ctx.idempotencyKey)
      : ctx.renderValue(ctx.config.template);
  const body = JSON.stringify(payload);
  const headers = {
    'user-agent': 'formhub-webhooks/1.0',
    ...ctx.config.headers,
    'content-type': 'application/json',
    ...signatureHeaders({
      id: ctx.idempotencyKey,
      timestamp: Math.floor(Date.now() / 1000),
      body,
      secrets: ctx.signingSecrets,
    }),
  };
  const res = await ctx.http.request({ url: ctx.config.url, method: 'POST', headers, body });
  if (res.status >= 200 && res.status < 300) return;
  if (res.status === 410) throw new GoneError('the receiver answered 410 Gone: webhook disabled');
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']) ?? undefined;
    throw new RetryableError('the receiver answered 429', { statusCode: 429, retryAfterMs });
  }
  if (res.status >= 300 && res.status < 400) {
    throw new RetryableError(`the receiver answered ${res.status}; redirects are not followed`, {
      statusCode: res.status,
    });
  }
  throw new RetryableError(`the receiver answered ${res.status}`, { statusCode: res.status });
}
