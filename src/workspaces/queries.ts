import type { Queryable } from '../db/index.ts';

export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: Date;
}

export interface ApiKeyRow {
  id: string;
  workspace_id: string;
  name: string;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  /** NULL: every scope; NULL `form_ids`: every form (DESIGN.md section 4b). */
  scopes: string[] | null;
  form_ids: string[] | null;
}

const KEY_COLUMNS =
  'id, workspace_id, name, key_prefix, created_at, last_used_at, scopes, form_ids';

export async function insertWorkspace(
  db: Queryable,
  id: string,
  name: string,
): Promise<WorkspaceRow> {
  const { rows } = await db.query<WorkspaceRow>(
    'INSERT INTO workspaces (id, name) VALUES ($1, $2) RETURNING id, name, created_at',
    [id, name],
  );
  return rows[0]!;
}

export async function findWorkspace(db: Queryable, id: string): Promise<WorkspaceRow | undefined> {
  const { rows } = await db.query<WorkspaceRow>(
    'SELECT id, name, created_at FROM workspaces WHERE id = $1',
    [id],
  );
  return rows[0];
}

export async function insertApiKey(
  db: Queryable,
  key: {
    id: string;
    workspaceId: string;
    name: string;
    hash: string;
    prefix: string;
    scopes?: readonly string[] | null;
    formIds?: readonly string[] | null;
  },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, workspace_id, name, key_hash, key_prefix, scopes, form_ids)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7::uuid[]) RETURNING ${KEY_COLUMNS}`,
    [
      key.id,
      key.workspaceId,
      key.name,
      key.hash,
      key.prefix,
      key.scopes ?? null,
      key.formIds ?? null,
    ],
  );
  return rows[0]!;
}

/** The live key with this hash, if any. */
export async function findApiKeyByHash(
  db: Queryable,
  hash: string,
): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  return rows[0];
}

export async function listApiKeys(
  db: Queryable,
  workspaceId: string,
  limit: number,
  beforeId: string | undefined,
): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys
     WHERE workspace_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id < $2::uuid)
     ORDER BY id DESC LIMIT $3`,
    [workspaceId, beforeId ?? null, limit],
  );
  return rows;
}

/** The live key with this id in the workspace, if any. */
export async function findApiKey(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL`,
    [id, workspaceId],
  );
  return rows[0];
}

/** Those of `ids` that are live forms of the workspace. */
export async function liveFormIds(
  db: Queryable,
  workspaceId: string,
  ids: readonly string[],
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM forms WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`,
    [workspaceId, ids],
  );
  return rows.map((row) => row.id);
}

/** Revokes a key; returns its hash (to drop it from caches), or undefined when there was none. */
export async function revokeApiKey(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ key_hash: string }>(
    `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL
     RETURNING key_hash`,
    [id, workspaceId],
  );
  return rows[0]?.key_hash;
}

/** Records use at most once a minute per key, so that auth stays a read on the hot path. */
export async function touchApiKey(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE api_keys SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

export interface WorkspaceSettingsRow extends WorkspaceRow {
  retention_deliveries_days: number | null;
  retention_responses_days: number | null;
}

const SETTINGS_COLUMNS =
  'id, name, created_at, retention_deliveries_days, retention_responses_days';

export async function findWorkspaceSettings(
  db: Queryable,
  id: string,
): Promise<WorkspaceSettingsRow | undefined> {
  const { rows } = await db.query<WorkspaceSettingsRow>(
    `SELECT ${SETTINGS_COLUMNS} FROM workspaces WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** Sets what `patch` names (undefined leaves a column as it is; null clears it). */
export async function updateWorkspaceSettings(
  db: Queryable,
  id: string,
  patch: { name?: string; deliveriesDays?: number | null; responsesDays?: number | null },
): Promise<WorkspaceSettingsRow | undefined> {
  const { rows } = await db.query<WorkspaceSettingsRow>(
    `UPDATE workspaces SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       retention_deliveries_days = CASE WHEN $4 THEN $5::integer ELSE retention_deliveries_days END,
       retention_responses_days = CASE WHEN $6 THEN $7::integer ELSE retention_responses_days END
     WHERE id = $1
     RETURNING ${SETTINGS_COLUMNS}`,
    [
      id,
      patch.name !== undefined,
      patch.name ?? null,
      patch.deliveriesDays !== undefined,
      patch.deliveriesDays ?? null,
      patch.responsesDays !== undefined,
      patch.responsesDays ?? null,
    ],
  );
  return rows[0];
}
