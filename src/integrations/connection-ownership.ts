import type { Queryable } from '../db/index.ts';
import { AppError, validationFailed, type ErrorDetail } from '../errors/index.ts';
import { claimConnection, recordConnectionOwner, type ConnectionRef } from './connection-owners.ts';
import { NangoConnectionNotFound, type NangoConnections } from './nango-connections.ts';

/**
 * The provider config keys a connector accepts: its own id (the default), or its id and a
 * suffix (`salesforce-sandbox`, `slack-eu`). So an integration of one connector cannot
 * borrow a connection made for another (a Slack token sent to a Salesforce target).
 */
export function acceptsProviderConfigKey(connector: string, key: string): boolean {
  return (
    key === connector || (key.startsWith(`${connector}-`) && key.length > connector.length + 1)
  );
}

/**
 * Problems with the connection an integration names, before anyone is asked: a provider
 * config key the connector does not accept, or a connection id that is a path segment of
 * its own (`.` and `..` survive URL-encoding and would name another Nango endpoint).
 */
export function connectionProblems(connector: string, ref: ConnectionRef): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  if (!acceptsProviderConfigKey(connector, ref.providerConfigKey)) {
    details.push({
      field: 'provider_config_key',
      message: `must be "${connector}" or start with "${connector}-"`,
    });
  }
  if (
    ref.connectionId === '.' ||
    ref.connectionId === '..' ||
    [...ref.connectionId].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
  ) {
    details.push({ field: 'connection_id', message: 'is not a valid connection id' });
  }
  return details;
}

const NOT_YOURS: ErrorDetail = {
  field: 'connection_id',
  message: 'is a Nango connection of another workspace',
};

export interface ConnectionClaim {
  workspaceId: string;
  connector: string;
  ref: ConnectionRef;
}

/**
 * The first half of making sure the Nango connection an integration names belongs to its
 * workspace (DESIGN.md 3a), done before any transaction opens since it may call Nango:
 * the key and id are checked, and when Nango names the connection's end user (connect
 * sessions), that must be this workspace. Answers whether Nango named it. Anything wrong
 * is a 422 naming the field; Nango out of reach is a 503.
 */
export async function checkConnection(
  nango: NangoConnections,
  claim: ConnectionClaim,
): Promise<boolean> {
  const problems = connectionProblems(claim.connector, claim.ref);
  if (problems.length > 0) throw validationFailed('the integration breaks the rules', problems);
  if (!nango.configured) return false;
  const endUserId = await endUserOf(nango, claim.ref);
  if (endUserId === undefined) return false;
  if (endUserId.toLowerCase() !== claim.workspaceId.toLowerCase()) {
    throw validationFailed('the Nango connection belongs to another workspace', [NOT_YOURS]);
  }
  return true;
}

/**
 * The second half, in the transaction that writes the integration (so a refused one claims
 * nothing): the owner Nango named is recorded; otherwise the first workspace to register
 * the connection owns it, and any other gets a 422 naming `connection_id`.
 */
export async function claimOwnership(
  tx: Queryable,
  claim: ConnectionClaim,
  namedByNango: boolean,
): Promise<void> {
  if (namedByNango) return recordConnectionOwner(tx, claim.ref, claim.workspaceId);
  const owner = await claimConnection(tx, claim.ref, claim.workspaceId);
  if (owner !== claim.workspaceId) {
    throw validationFailed('the Nango connection belongs to another workspace', [NOT_YOURS]);
  }
}

/** The connection's end user per Nango; 422 when Nango does not know it, 503 when it cannot be asked. */
async function endUserOf(nango: NangoConnections, ref: ConnectionRef): Promise<string | undefined> {
  try {
    return (await nango.get(ref)).endUserId;
  } catch (error) {
    if (error instanceof NangoConnectionNotFound) {
      throw validationFailed('unknown Nango connection', [
        {
          field: 'connection_id',
          message: `Nango has no such connection for provider_config_key "${ref.providerConfigKey}"`,
        },
      ]);
    }
    throw new AppError('unavailable', 'Nango cannot be reached to check the connection; try again');
  }
}
