/**
 * An example plugin, loaded from PLUGINS_DIR (./plugins): it POSTs a small JSON summary of
 * each submitted response to a URL, with the delivery id as the idempotency key.
 * docs/plugins.md walks through it.
 */
import {
  FormPlugin,
  GoneError,
  parseRetryAfter,
  PermanentError,
  RetryableError,
  type FormEvent,
  type PluginContext,
} from '@formhub/sdk';

interface EchoConfig {
  url: string;
  /** A mustache template for the summary line. */
  summary?: string;
  /** Sent as a bearer token; writeOnly, so the hub encrypts it and never shows it again. */
  token?: string;
}

export default class EchoPlugin extends FormPlugin<EchoConfig> {
  readonly metadata = {
    id: 'echo',
    name: 'Echo (example)',
    version: '1.0.0',
    description: 'Example plugin: POSTs a summary of each response to a URL.',
    configSchema: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri' },
        summary: { type: 'string', default: 'New response to {{form.title}}' },
        token: { type: 'string', writeOnly: true },
      },
    },
  };

  override async onResponseSubmitted(
    event: FormEvent,
    ctx: PluginContext<EchoConfig>,
  ): Promise<void> {
    const summary = ctx.render(ctx.config.summary ?? 'New response to {{form.title}}');
    const res = await ctx.http.request({
      url: ctx.config.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': ctx.idempotencyKey,
        ...(ctx.config.token ? { authorization: `Bearer ${ctx.config.token}` } : {}),
      },
      body: JSON.stringify({ summary, response_id: event.response.id, answers: event.data }),
    });
    if (res.status >= 200 && res.status < 300)
      return ctx.logger.info('echoed', { status: res.status });
    if (res.status === 410) throw new GoneError('the echo target is gone');
    if (res.status === 400 || res.status === 422)
      throw new PermanentError(`the echo target refused it: ${res.body}`, {
        statusCode: res.status,
      });
    throw new RetryableError(`the echo target answered ${res.status}`, {
      statusCode: res.status,
      retryAfterMs: parseRetryAfter(res.headers['retry-after']) ?? undefined,
    });
  }
}
