import type { Queryable } from '../db/index.ts';

/** A Nango connection, as the hub and Nango both name it. */
export interface ConnectionRef {
  providerConfigKey: string;
  connectionId: string;
}

/**
 * Claims the connection for `workspaceId` unless a workspace owns it already, and answers
 * the owner. Atomic across processes: the primary key decides between two workspaces that
 * claim at once (the second INSERT waits for the first to commit, then does nothing), and
 * the owner is read by a second statement, whose snapshot sees the winner's row.
 */
export async function claimConnection(
  db: Queryable,
  ref: ConnectionRef,
  workspaceId: string,
): Promise<string> {
  await db.query(
    `INSERT INTO nango_connection_owners (provider_config_key, connection_id, workspace_id)
     VALUES ($1, $2, $3) ON CONFLICT (provider_config_key, connection_id) DO NOTHING`,
    [ref.providerConfigKey, ref.connectionId, workspaceId],
  );
  const { rows } = await db.query<{ workspace_id: string }>(
    `SELECT workspace_id FROM nango_connection_owners WHERE provider_config_key = $1 AND connection_id = $2`,
    [ref.providerConfigKey, ref.connectionId],
  );
  return rows[0]!.workspace_id;
}

/** Records the owner Nango names (a connect session's end user): Nango's word beats a first claim. */
export async function recordConnectionOwner(
  db: Queryable,
  ref: ConnectionRef,
  workspaceId: string,
): Promise<void> {
  await db.query(
    `INSERT INTO nango_connection_owners (provider_config_key, connection_id, workspace_id)
     VALUES ($1, $2, $3)
     ON CONFLICT (provider_config_key, connection_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id
     WHERE nango_connection_owners.workspace_id <> EXCLUDED.workspace_id`,
    [ref.providerConfigKey, ref.connectionId, workspaceId],
  );
}
