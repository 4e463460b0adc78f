import type { FormEvent } from './events.ts';

/** One HTTP request made through the context's client. */
export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** Its answer; the body is read as text (and cut by the hub for the attempt log). */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The HTTP client the hub gives plugins: per-attempt timeout, redirects never followed,
 * refused targets (private addresses, unless allowed) and every exchange recorded in the
 * delivery's attempt log. It rejects on network errors and timeouts, never on a status.
 *
 * @example const res = await ctx.http.request({ url, method: 'POST', body: JSON.stringify(x) });
 */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
}

/** Log lines a plugin writes; they carry the delivery and integration ids. */
export interface PluginLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Credentials for the target system: from a Nango connection (`connection_id`) or from
 * the integration's config (`token`, `instance_url`).
 */
export interface Credentials {
  accessToken?: string;
  instanceUrl?: string;
  /**
   * Where they came from. A token from a `connection` goes only to the `instanceUrl` given
   * with it, never to a URL from the config (whoever wrote the config would receive it).
   */
  source?: 'connection' | 'config';
  /** Everything the credential source returned, for plugins that need more. */
  raw?: Record<string, unknown>;
}

/**
 * Everything a plugin hook gets besides the event.
 *
 * @example
 * async onResponseSubmitted(event: FormEvent, ctx: PluginContext<MyConfig>) {
 *   await ctx.http.request({ url: ctx.config.url, method: 'POST', body: ctx.render('{{data.email}}') });
 * }
 */
export interface PluginContext<Config = Record<string, unknown>> {
  /** The integration's configuration, validated against the plugin's schema, secrets decrypted. */
  config: Config;
  logger: PluginLogger;
  http: HttpClient;
  credentials: Credentials;
  /**
   * Fetches fresh credentials (a Nango connection is refreshed; config tokens cannot be) and
   * updates `ctx.credentials`. Call it once when the service answers 401, then retry once.
   */
  refreshCredentials(): Promise<Credentials>;
  /** Mustache over `{event, form, response, data}`, without HTML escaping. */
  render(template: string): string;
  /** Renders every string of a JSON template; a string that is one tag keeps the value's type. */
  renderValue(template: unknown): unknown;
  /** The delivery id: the same on every attempt and replay. Send it as the target's idempotency key. */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the attempt's time is up. */
  signal: AbortSignal;
  /** Hub settings a connector may need, e.g. `SLACK_API_URL`. */
  settings: Readonly<Record<string, string | undefined>>;
  event: FormEvent;
  /**
   * The integration's signing secrets (`whsec_...`), current first; during the 24 hours
   * after a rotation the previous one follows. Empty for integrations that do not sign.
   */
  signingSecrets: readonly string[];
}
