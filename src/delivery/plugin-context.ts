import type { Dispatcher } from 'undici';
import type { Credentials, FormEvent, PluginContext, PluginLogger } from '@formhub/sdk';
import type { Logger } from 'pino';
import { createRecordingClient, type Exchange } from './http-client.ts';
import { compileTemplate } from '@formhub/sdk';

export interface ContextInput {
  event: FormEvent;
  config: Record<string, unknown>;
  credentials: Credentials;
  /** Fetches fresh credentials (forcing a Nango refresh). */
  refresh: () => Promise<Credentials>;
  deliveryId: string;
  integrationId: string;
  attempt: number;
  signingSecrets: string[];
  settings: Readonly<Record<string, string | undefined>>;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  logger: Logger;
}

/** The context of one attempt, and the exchanges its HTTP client recorded. */
export function createPluginContext(input: ContextInput): {
  ctx: PluginContext;
  exchanges: Exchange[];
} {
  const { client, exchanges } = createRecordingClient(input.dispatcher, input.signal);
  const view = {
    event: input.event.type,
    form: input.event.form,
    response: input.event.response,
    data: input.event.data,
  };
  const child = input.logger.child({ delivery: input.deliveryId, integration: input.integrationId });
  const logger: PluginLogger = {
    debug: (message, fields) => child.debug(fields ?? {}, message),
    info: (message, fields) => child.info(fields ?? {}, message),
    warn: (message, fields) => child.warn(fields ?? {}, message),
    error: (message, fields) => child.error(fields ?? {}, message),
  };
  const ctx: PluginContext = {
    config: input.config,
    logger,
    http: client,
    credentials: input.credentials,
    async refreshCredentials() {
      ctx.credentials = await input.refresh();
      return ctx.credentials;
    },
    render: (template: string) => String(compileTemplate(template).render(view) ?? ''),
    renderValue: (template: unknown) => compileTemplate(template).render(view),
    idempotencyKey: input.deliveryId,
    attempt: input.attempt,
    signal: input.signal,
    settings: input.settings,
    event: input.event,
    signingSecrets: input.signingSecrets,
  };
  return { ctx, exchanges };
}
