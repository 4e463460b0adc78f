import type { PluginContext } from './context.ts';
import type { FormEvent } from './events.ts';

/** A JSON Schema (draft 2020-12 subset that Ajv understands). */
export type JsonSchema = Record<string, unknown>;

/**
 * What the hub lists at `GET /api/v2/connectors`. Mark secret config properties with
 * `"writeOnly": true` in `configSchema`: the hub encrypts them at rest and never returns them.
 */
export interface PluginMetadata {
  /** Unique, lower-case, `[a-z0-9-]`: what `POST /forms/:id/integrations` names as `connector`. */
  id: string;
  name: string;
  version: string;
  description?: string;
  configSchema: JsonSchema;
}

/**
 * The base class of every connector. Override the hooks for the events you handle; an
 * event without a hook succeeds without doing anything. A hook succeeds by returning,
 * and fails by throwing: RetryableError (or any error) is retried, PermanentError goes to
 * the dead-letter state, GoneError disables the integration.
 *
 * @example
 * export default class Echo extends FormPlugin<{ url: string }> {
 *   readonly metadata = { id: 'echo', name: 'Echo', version: '1.0.0',
 *     configSchema: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } } };
 *   async onResponseSubmitted(event: FormEvent, ctx: PluginContext<{ url: string }>) {
 *     const res = await ctx.http.request({ url: ctx.config.url, method: 'POST', body: JSON.stringify(event.data) });
 *     if (res.status >= 300) throw new RetryableError(`echo answered ${res.status}`);
 *   }
 * }
 */
export abstract class FormPlugin<Config = Record<string, unknown>> {
  abstract readonly metadata: PluginMetadata;

  onResponseSubmitted?(event: FormEvent, ctx: PluginContext<Config>): Promise<void>;
  onResponseUpdated?(event: FormEvent, ctx: PluginContext<Config>): Promise<void>;
  onResponseDeleted?(event: FormEvent, ctx: PluginContext<Config>): Promise<void>;
  /** A test event sent on request; without this hook a test succeeds without doing anything. */
  onTest?(event: FormEvent, ctx: PluginContext<Config>): Promise<void>;
  /** An anomalous day detected by analytics (`event.anomaly`). */
  onAnomaly?(event: FormEvent, ctx: PluginContext<Config>): Promise<void>;
  /**
   * Upgrades an integration's config written for an older major version of this connector
   * (`fromVersion`, e.g. `1.4.0` when `metadata.version` is now `2.0.0`). The hub calls it
   * once at start for each such integration, then validates the result against the new
   * `configSchema`: valid, the upgraded config is stored and deliveries go on; invalid (or a
   * throw), the integration is marked `needs_update` until its owner PATCHes a valid config.
   * Without this hook the old config is validated as it is. The config includes its
   * `writeOnly` secrets: keep them, never log them.
   *
   * @example
   * migrateConfig(config, fromVersion) {
   *   return fromVersion.startsWith('1.') ? { ...config, endpoint: config.url } : config;
   * }
   */
  migrateConfig?(
    config: Record<string, unknown>,
    fromVersion: string,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** The hook of a plugin for an event type, if it has one. */
export function hookFor<C>(
  plugin: FormPlugin<C>,
  type: FormEvent['type'],
): ((event: FormEvent, ctx: PluginContext<C>) => Promise<void>) | undefined {
  const hook =
    type === 'response.submitted'
      ? plugin.onResponseSubmitted
      : type === 'response.updated'
        ? plugin.onResponseUpdated
        : type === 'response.deleted'
          ? plugin.onResponseDeleted
          : type === 'ping'
            ? plugin.onTest
            : type === 'analytics.anomaly'
              ? plugin.onAnomaly
              : undefined;
  return hook?.bind(plugin);
}

/** True for a value that looks like a plugin (an instance of any copy of FormPlugin). */
export function isFormPlugin(value: unknown): value is FormPlugin {
  const meta = (value as { metadata?: Partial<PluginMetadata> } | null)?.metadata;
  return (
    typeof meta === 'object' &&
    meta !== null &&
    typeof meta.id === 'string' &&
    /^[a-z0-9][a-z0-9-]{0,62}$/.test(meta.id) &&
    typeof meta.name === 'string' &&
    typeof meta.version === 'string' &&
    typeof meta.configSchema === 'object'
  );
}
