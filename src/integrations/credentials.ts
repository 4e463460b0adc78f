import { PermanentError, RetryableError, type Credentials } from '@formhub/sdk';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import {
  NangoConnectionNotFound,
  NangoConnections,
  NangoUnavailable,
} from './nango-connections.ts';
import type { IntegrationRow } from './queries.ts';

/** Resolves an integration's credentials for one attempt. */
export type CredentialsResolver = (
  integration: IntegrationRow,
  config: Record<string, unknown>,
  options?: { forceRefresh?: boolean },
) => Promise<Credentials>;

/**
 * Credentials come from a Nango connection when the integration names one, else from the
 * config's `token` and `instance_url`; never a mix of the two. A Nango token goes only with
 * the instance URL Nango gives (`connection_config.instance_url`): a URL from the config
 * would let whoever wrote the config receive the token. A connection whose end user is
 * another workspace is refused before its token is used (the API refuses such
 * integrations too; this covers rows written before it did). Nango unreachable is
 * retryable; Nango not configured, or a connection it does not know, is permanent (fix it,
 * then replay).
 */
export function createCredentialsResolver(config: Config, logger?: Logger): CredentialsResolver {
  const nango = new NangoConnections(config);
  return async (integration, integrationConfig, options = {}) => {
    if (!integration.connection_id) {
      return {
        accessToken: stringOr(integrationConfig.token),
        instanceUrl: stringOr(integrationConfig.instance_url),
        source: 'config',
      };
    }
    if (!nango.configured)
      throw new PermanentError('connection_id needs NANGO_HOST and NANGO_SECRET_KEY');
    const ref = {
      providerConfigKey: integration.provider_config_key ?? integration.connector,
      connectionId: integration.connection_id,
    };
    try {
      const connection = await nango.get(ref, options.forceRefresh);
      if (
        connection.endUserId &&
        connection.endUserId.toLowerCase() !== integration.workspace_id.toLowerCase()
      ) {
        logger?.warn(
          { integration: integration.id, ...ref },
          'Nango connection of another workspace refused',
        );
        throw new PermanentError('the Nango connection belongs to another workspace');
      }
      return {
        accessToken: connection.accessToken,
        instanceUrl: connection.instanceUrl,
        source: 'connection',
        raw: connection.raw,
      };
    } catch (error) {
      if (error instanceof NangoConnectionNotFound) {
        throw new PermanentError(
          `Nango has no connection "${ref.connectionId}" for "${ref.providerConfigKey}"`,
          {
            statusCode: error.status,
          },
        );
      }
      if (error instanceof NangoUnavailable) {
        logger?.warn(
          { integration: integration.id, err: error.detail, status: error.status },
          'Nango unreachable',
        );
        throw new RetryableError(`${error.message}; retrying`, { statusCode: error.status });
      }
      throw error;
    }
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
