import {
  flattenResponse,
  FormPlugin,
  PermanentError,
  type Credentials,
  type FormEvent,
  type PluginContext,
} from '@formhub/sdk';
import { Connection, type SaveResult } from 'jsforce';
import { buildRecord } from './build-record.ts';
import { configSchema, type SalesforceConfig } from './config-schema.ts';
import { useContextTransport } from './context-transport.ts';
import { toDeliveryError } from './delivery-error.ts';

/** The REST API version every request uses. */
export const API_VERSION = '59.0';

/**
 * Salesforce (jsforce 3): each submitted response creates a Lead or Contact from a field
 * mapping. With `external_id_field` the record is upserted on that field, set to the
 * response id, so retries and replays update the one record; without it every successful
 * attempt creates a record (see README.md). Credentials come from a Nango connection or the
 * config's `token` and `instance_url`; a 401 refreshes them once and tries once more within
 * the attempt.
 */
export default class SalesforcePlugin extends FormPlugin<SalesforceConfig> {
  readonly metadata = {
    id: 'salesforce',
    name: 'Salesforce',
    version: '1.0.0',
    description: 'Creates (or upserts on an external id) a Lead or Contact per response.',
    configSchema,
  };

  override async onResponseSubmitted(
    event: FormEvent,
    ctx: PluginContext<SalesforceConfig>,
  ): Promise<void> {
    const { config } = ctx;
    const record = buildRecord(
      config.mapping,
      flattenResponse(event.response),
      config.external_id_field,
    );
    const result = await withOneRefresh(ctx, (credentials) => saveRecord(record, credentials, ctx));
    ctx.logger.info('salesforce record saved', {
      object: config.object,
      id: result.id,
      ...(config.external_id_field
        ? { created: (result as { created?: boolean }).created ?? false }
        : {}),
    });
  }
}

/**
 * Runs `save` with the current credentials; when Salesforce refuses the token (401), fetches
 * fresh ones once (`ctx.refreshCredentials()`, a forced Nango refresh) and runs it once more.
 * jsforce is given no `refreshFn`: with one, it refreshes and re-sends on every 401 without
 * limit.
 */
async function withOneRefresh<T>(
  ctx: PluginContext<SalesforceConfig>,
  save: (credentials: Credentials) => Promise<T>,
): Promise<T> {
  const used = ctx.credentials;
  try {
    return await save(used);
  } catch (error) {
    if (!isTokenRefused(error)) throw error;
    const fresh = await ctx.refreshCredentials();
    if (!fresh.accessToken || fresh.accessToken === accessTokenOf(used, ctx.config)) {
      throw new PermanentError(
        `${error.message}; the token could not be refreshed (a config token cannot be: update it, or use a Nango connection)`,
        {
          statusCode: 401,
          cause: error,
        },
      );
    }
    return await save(fresh);
  }
}

/** Creates the record, or upserts it on the external id field. */
async function saveRecord(
  record: Record<string, unknown>,
  credentials: Credentials,
  ctx: PluginContext<SalesforceConfig>,
): Promise<SaveResult> {
  const { config } = ctx;
  const conn = connect(credentials, ctx);
  const transport = useContextTransport(conn, ctx.http);
  let result: SaveResult;
  try {
    const sobject = conn.sobject(config.object);
    result = config.external_id_field
      ? await sobject.upsert(record, config.external_id_field)
      : await sobject.create(record);
  } catch (error) {
    throw toDeliveryError(error, transport.lastResponse, config.object);
  }
  if (result?.success !== true || typeof result.id !== 'string') {
    const status = transport.lastResponse?.status;
    throw new PermanentError(
      `Salesforce answered ${status ?? 'without an answer'} but no saved ${config.object} id: is the instance URL right?`,
      {
        statusCode: status,
      },
    );
  }
  return result;
}

/**
 * A jsforce connection for these credentials (the config's own when the context has none).
 * A Nango token is sent only to the instance URL Nango gave with it: with the config's
 * `instance_url`, whoever wrote the config could receive another org's token.
 */
function connect(credentials: Credentials, ctx: PluginContext<SalesforceConfig>): Connection {
  const fromConnection = credentials.source === 'connection';
  const instanceUrl = fromConnection
    ? credentials.instanceUrl
    : (credentials.instanceUrl ?? ctx.config.instance_url);
  const accessToken = accessTokenOf(credentials, ctx.config);
  if (!instanceUrl) {
    throw new PermanentError(
      fromConnection
        ? "the Nango connection gives no instance URL (connection_config.instance_url); the config's instance_url is never used with a Nango token"
        : 'no Salesforce instance URL: set instance_url in the config, or use a Nango connection whose connection_config has one',
    );
  }
  if (!accessToken)
    throw new PermanentError(
      'no Salesforce access token: set token in the config, or use a Nango connection',
    );
  try {
    return new Connection({
      instanceUrl: instanceUrl.replace(/\/+$/, ''),
      accessToken,
      version: API_VERSION,
      loginUrl: ctx.settings.SALESFORCE_LOGIN_URL,
    });
  } catch (error) {
    // jsforce refuses Lightning (*.lightning.force.com) URLs: they are not API instance URLs.
    throw new PermanentError(
      `invalid Salesforce instance URL ${instanceUrl}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function accessTokenOf(credentials: Credentials, config: SalesforceConfig): string | undefined {
  return credentials.source === 'connection'
    ? credentials.accessToken
    : (credentials.accessToken ?? config.token);
}

/** A 401 from Salesforce, as `toDeliveryError` classifies it. */
function isTokenRefused(error: unknown): error is PermanentError {
  return error instanceof PermanentError && error.statusCode === 401;
}
