import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/**
 * A local stand-in for the slice of the Nango API the hub uses: `GET /connections/{id}`
 * (what `@nangohq/node`'s `getConnection(providerConfigKey, connectionId, forceRefresh)`
 * calls), with the answer shape of Nango's API reference. Shared by every connector test.
 *
 * @example
 * const nango = await startFakeNango();
 * nango.setConnection('conn-1', { providerConfigKey: 'slack', accessToken: 'xoxb-1' });
 * // hub env: { NANGO_HOST: nango.url, NANGO_SECRET_KEY: nango.secretKey }
 */
export interface FakeNango {
  /** Base URL for `NANGO_HOST` (no trailing slash). */
  url: string;
  /** The secret key it accepts as `Authorization: Bearer <key>` (`NANGO_SECRET_KEY`). */
  secretKey: string;
  /** Every request received, oldest first. */
  requests: NangoRequest[];
  /** Creates or replaces a connection. */
  setConnection(connectionId: string, connection: FakeConnectionInput): void;
  /** The connection's current state (its token changes on each forced refresh). */
  connection(connectionId: string): FakeConnection | undefined;
  /** How many `force_refresh=true` requests a connection got. */
  refreshes(connectionId: string): number;
  /** Makes the next `count` requests answer `status` (e.g. 503), whatever they ask. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

export interface NangoRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export interface FakeConnectionInput {
  /** The integration's unique key in Nango (`provider_config_key`). */
  providerConfigKey: string;
  accessToken: string;
  /** What a forced refresh answers next; default: `<accessToken>-r<n>`. */
  nextToken?: (refreshNumber: number, previous: string) => string;
  /** ISO time the token expires; default an hour from now. */
  expiresAt?: string;
  /** E.g. `{ instance_url: 'https://acme.my.salesforce.com' }` for Salesforce. */
  connectionConfig?: Record<string, unknown>;
  provider?: string;
  /** The connect session's end user (`end_user`), e.g. `{ id: <workspace id> }`; default none. */
  endUser?: { id: string; email?: string };
}

export interface FakeConnection extends Required<
  Omit<FakeConnectionInput, 'nextToken' | 'provider' | 'endUser'>
> {
  provider: string;
  endUser: { id: string; email?: string } | null;
  refreshes: number;
  nextToken: (refreshNumber: number, previous: string) => string;
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeNango(options: { secretKey?: string } = {}): Promise<FakeNango> {
  const secretKey = options.secretKey ?? 'nango-test-secret';
  const connections = new Map<string, FakeConnection>();
  const requests: NangoRequest[] = [];
  const failures = { remaining: 0, status: 503 };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://nango.local');
    const query = Object.fromEntries(url.searchParams.entries());
    requests.push({ method: req.method ?? '', path: url.pathname, query, headers: req.headers });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return send(failures.status, {
        error: { code: 'server_error', message: 'injected failure' },
      });
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return send(401, {
        error: { code: 'unknown_account', message: 'No account found for this secret key' },
      });
    }
    const match = /^\/connections?\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match?.[1])
      return send(404, { error: { code: 'not_found', message: 'Unknown route' } });
    const id = decodeURIComponent(match[1]);
    const connection = connections.get(id);
    if (!connection || connection.providerConfigKey !== query.provider_config_key) {
      return send(404, {
        error: {
          code: 'unknown_connection',
          message: `No connection "${id}" for "${query.provider_config_key ?? ''}"`,
        },
      });
    }
    if (query.force_refresh === 'true') {
      connection.refreshes += 1;
      connection.accessToken = connection.nextToken(connection.refreshes, connection.accessToken);
      connection.expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    }
    send(200, presentConnection(id, connection));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    requests,
    setConnection(connectionId, input) {
      connections.set(connectionId, {
        providerConfigKey: input.providerConfigKey,
        accessToken: input.accessToken,
        expiresAt: input.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
        connectionConfig: input.connectionConfig ?? {},
        provider: input.provider ?? input.providerConfigKey,
        endUser: input.endUser ?? null,
        refreshes: 0,
        nextToken: input.nextToken ?? ((n, previous) => `${previous.replace(/-r\d+$/, '')}-r${n}`),
      });
    },
    connection: (connectionId) => connections.get(connectionId),
    refreshes: (connectionId) => connections.get(connectionId)?.refreshes ?? 0,
    failNext(count, status = 503) {
      failures.remaining = count;
      failures.status = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The body of `GET /connections/{id}` (Nango API reference, OAuth2 connection). */
function presentConnection(id: string, c: FakeConnection) {
  const now = new Date().toISOString();
  return {
    id: 1,
    connection_id: id,
    provider_config_key: c.providerConfigKey,
    provider: c.provider,
    errors: [],
    end_user: c.endUser
      ? {
          id: c.endUser.id,
          email: c.endUser.email ?? null,
          display_name: null,
          tags: null,
          organization: null,
        }
      : null,
    metadata: {},
    connection_config: c.connectionConfig,
    created_at: now,
    updated_at: now,
    last_fetched_at: now,
    credentials: {
      type: 'OAUTH2',
      access_token: c.accessToken,
      refresh_token: 'nango-holds-the-refresh-token',
      expires_at: c.expiresAt,
      raw: { access_token: c.accessToken, token_type: 'Bearer', expires_in: 3600 },
    },
  };
}
