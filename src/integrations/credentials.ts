import { Nango } from '@nangohq/node';
import { PermanentError, RetryableError, type Credentials } from '@formhub/sdk';
import type { Config } from '../config/index.ts';
import type { IntegrationRow } from './queries.ts';

/** Resolves an integration's credentials for one attempt. */
export type CredentialsResolver = (
  integration: IntegrationRow,
  config: Record<string, unknown>,
  options?: { forceRefresh?: boolean },
) => Promise<Credentials>;

/**
 * Credentials come from a Nango connection when the integration names one
 * (`credentials.access_token`, `connection_config.instance_url`), else from the config's
 * `token` and `instance_url`. Nango unreachable is retryable; Nango not configured, or a
 * connection it does not know, is permanent (fix it, then replay).
 */
export function createCredentialsResolver(config: Config): CredentialsResolver {
  const nango =
    config.nango.host && config.nango.secretKey
      ? new Nango({ host: config.nango.host, secretKey: config.nango.secretKey })
      : undefined;
  return async (integration, integrationConfig, options = {}) => {
    if (!integration.connection_id) {
      return {
        accessToken: stringOr(integrationConfig.token),
        instanceUrl: stringOr(integrationConfig.instance_url),
      };
    }
    if (!nango) throw new PermanentError('connection_id needs NANGO_HOST and NANGO_SECRET_KEY');
    const key = integration.provider_config_key ?? integration.connector;
    try {
      const connection = (await nango.getConnection(key, integration.connection_id, options.forceRefresh)) as unknown as {
        credentials?: { access_token?: string };
        connection_config?: { instance_url?: string };
      };
      return {
        accessToken: connection.credentials?.access_token,
        instanceUrl: connection.connection_config?.instance_url ?? stringOr(integrationConfig.instance_url),
        raw: connection as Record<string, unknown>,
      };
    } catch (error) {
      const status = (error as { response?: { status?: number } }).response?.status;
      if (status === 404 || status === 400) {
        throw new PermanentError(`Nango has no connection "${integration.connection_id}" for "${key}"`, { statusCode: status });
      }
      throw new RetryableError(`Nango is unreachable: ${(error as Error).message}`, { statusCode: status });
    }
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
