import { Nango } from '@nangohq/node';
import type { Config } from '../config/index.ts';
import type { ConnectionRef } from './connection-owners.ts';

/** What the hub uses of a Nango connection. */
export interface NangoConnection {
  accessToken: string | undefined;
  /** `connection_config.instance_url` (Salesforce): the only place its token may be sent. */
  instanceUrl: string | undefined;
  /** The connect session's end user, when Nango names one: the id of the owning workspace. */
  endUserId: string | undefined;
  raw: Record<string, unknown>;
}

/** Nango has no such connection under that provider config key (or refused the request). */
export class NangoConnectionNotFound extends Error {
  constructor(readonly status: number) {
    super(`Nango has no such connection (status ${status})`);
    this.name = 'NangoConnectionNotFound';
  }
}

/**
 * Nango could not be asked. The message says only that, and the status if any: the cause
 * (e.g. `connect ECONNREFUSED 10.0.3.7:3003`) names the hub's own network and goes to the
 * server log, never to a workspace.
 */
export class NangoUnavailable extends Error {
  constructor(
    readonly status: number | undefined,
    readonly detail: string,
  ) {
    super(status ? `Nango answered ${status}` : 'Nango is unreachable');
    this.name = 'NangoUnavailable';
  }
}

/**
 * The hub's one way to read Nango connections (@nangohq/node). The client puts the
 * connection id into the URL path as given, so it is URL-encoded here: an id such as
 * `../environment-variables#` must name a connection, not another Nango endpoint called
 * with the hub's secret key. The provider config key travels as a query parameter, which
 * the client encodes.
 */
export class NangoConnections {
  private readonly client: Nango | undefined;

  constructor(config: Config) {
    const { host, secretKey } = config.nango;
    this.client = host && secretKey ? new Nango({ host, secretKey }) : undefined;
  }

  /** False without NANGO_HOST and NANGO_SECRET_KEY. */
  get configured(): boolean {
    return this.client !== undefined;
  }

  /** The connection; `forceRefresh` makes Nango refresh its token first. */
  async get(ref: ConnectionRef, forceRefresh = false): Promise<NangoConnection> {
    if (!this.client)
      throw new NangoUnavailable(undefined, 'NANGO_HOST and NANGO_SECRET_KEY are not set');
    let connection: Record<string, unknown>;
    try {
      connection = (await this.client.getConnection(
        ref.providerConfigKey,
        encodeURIComponent(ref.connectionId),
        forceRefresh,
      )) as unknown as Record<string, unknown>;
    } catch (error) {
      const status = (error as { response?: { status?: number } }).response?.status;
      if (status === 404 || status === 400) throw new NangoConnectionNotFound(status);
      throw new NangoUnavailable(status, (error as Error).message);
    }
    return readConnection(connection);
  }
}

/** The parts of Nango's connection answer the hub uses, each checked for its type. */
export function readConnection(connection: Record<string, unknown>): NangoConnection {
  const credentials = connection.credentials as { access_token?: unknown } | undefined;
  const config = connection.connection_config as { instance_url?: unknown } | undefined;
  const endUser = connection.end_user as { id?: unknown } | null | undefined;
  return {
    accessToken: nonEmpty(credentials?.access_token),
    instanceUrl: nonEmpty(config?.instance_url),
    endUserId: nonEmpty(endUser?.id),
    raw: connection,
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
