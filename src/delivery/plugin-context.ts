import type { Dispatcher } from 'undici';
import type { Credentials, FormEvent, HttpClient, PluginContext, PluginLogger } from '@formhub/sdk';
import type { Logger } from 'pino';
import { compileTemplate } from '@formhub/sdk';
import type { CredentialsResolver, IntegrationRow } from '../integrations/index.ts';
import type { AttemptAbort } from './attempt-abort.ts';
import { RecordingClient, type Exchange } from './http-client.ts';

export interface ContextInput {
  event: FormEvent;
  config: Record<string, unknown>;
  credentials: Credentials;
  /** The integration, and how to fetch fresh credentials for it (forcing a Nango refresh). */
  integration: IntegrationRow;
  resolveCredentials: CredentialsResolver;
  deliveryId: string;
  integrationId: string;
  attempt: number;
  signingSecrets: string[];
  settings: Readonly<Record<string, string | undefined>>;
  dispatcher: Dispatcher;
  abort: AttemptAbort;
  logger: Logger;
}

/** The logger of one attempt: a pino child bound to the delivery, made when first used. */
class AttemptLogger implements PluginLogger {
  private child: Logger | undefined;

  constructor(private readonly input: ContextInput) {
    // A plugin may take them off the logger (`const { info } = ctx.logger`).
    this.debug = this.debug.bind(this);
    this.info = this.info.bind(this);
    this.warn = this.warn.bind(this);
    this.error = this.error.bind(this);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.logger().debug(fields ?? {}, message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.logger().info(fields ?? {}, message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.logger().warn(fields ?? {}, message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.logger().error(fields ?? {}, message);
  }

  private logger(): Logger {
    this.child ??= this.input.logger.child({
      delivery: this.input.deliveryId,
      integration: this.input.integrationId,
    });
    return this.child;
  }
}

type ContextFunctions = Pick<PluginContext, 'refreshCredentials' | 'render' | 'renderValue'>;

/**
 * The context of one attempt. Made for every attempt, so it is a plain class whose parts
 * that most plugins never touch (the logger, the AbortSignal, the template view) are made
 * on first use.
 */
class AttemptContext implements PluginContext {
  readonly config: Record<string, unknown>;
  readonly http: HttpClient;
  credentials: Credentials;
  readonly idempotencyKey: string;
  readonly attempt: number;
  readonly settings: Readonly<Record<string, string | undefined>>;
  readonly event: FormEvent;
  readonly signingSecrets: readonly string[];
  private attemptLogger: AttemptLogger | undefined;
  private view: Record<string, unknown> | undefined;
  private bound: ContextFunctions | undefined;

  constructor(
    private readonly input: ContextInput,
    client: RecordingClient,
  ) {
    this.config = input.config;
    this.http = client;
    this.credentials = input.credentials;
    this.idempotencyKey = input.deliveryId;
    this.attempt = input.attempt;
    this.settings = input.settings;
    this.event = input.event;
    this.signingSecrets = input.signingSecrets;
  }

  get logger(): PluginLogger {
    this.attemptLogger ??= new AttemptLogger(this.input);
    return this.attemptLogger;
  }

  get signal(): AbortSignal {
    return this.input.abort.signal;
  }

  // The functions below work when taken off the context (`const { render } = ctx`); each is
  // made, bound, the first time it is read.
  get refreshCredentials(): () => Promise<Credentials> {
    return this.functions().refreshCredentials;
  }

  get render(): (template: string) => string {
    return this.functions().render;
  }

  get renderValue(): (template: unknown) => unknown {
    return this.functions().renderValue;
  }

  private functions(): ContextFunctions {
    this.bound ??= {
      refreshCredentials: async () => {
        const { integration, resolveCredentials } = this.input;
        this.credentials = await resolveCredentials(integration, this.config, {
          forceRefresh: true,
        });
        return this.credentials;
      },
      render: (template) => String(compileTemplate(template).render(this.templateView()) ?? ''),
      renderValue: (template) => compileTemplate(template).render(this.templateView()),
    };
    return this.bound;
  }

  private templateView(): Record<string, unknown> {
    const { event } = this.input;
    this.view ??= {
      event: event.type,
      form: event.form,
      response: event.response,
      data: event.data,
    };
    return this.view;
  }
}

/** The context of one attempt, and the exchanges its HTTP client recorded. */
export function createPluginContext(input: ContextInput): {
  ctx: PluginContext;
  exchanges: Exchange[];
} {
  const client = new RecordingClient(input.dispatcher, input.abort, (blocked, url) =>
    // The workspace sees "target address not allowed"; the operator sees where it pointed.
    input.logger.warn(
      {
        delivery: input.deliveryId,
        integration: input.integrationId,
        host: new URL(url).host,
        refused: blocked.describe(),
      },
      'delivery target refused: not a public address',
    ),
  );
  return { ctx: new AttemptContext(input, client), exchanges: client.exchanges };
}
