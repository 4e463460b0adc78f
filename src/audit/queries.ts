import { uuidv7 } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';

export interface NewAuditEntry {
  workspaceId: string;
  keyId: string;
  address: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
}

export interface AuditRow {
  id: string;
  at: Date;
  key_id: string;
  key_name: string | null;
  address: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
}

export async function insertAuditEntry(db: Queryable, entry: NewAuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (id, workspace_id, key_id, address, action, resource_type, resource_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      uuidv7(),
      entry.workspaceId,
      entry.keyId,
      entry.address,
      entry.action,
      entry.resourceType,
      entry.resourceId,
    ],
  );
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  action?: string;
  /** Entries older than this id (the cursor). */
  before?: string;
  limit: number;
}

/** A workspace's entries, newest first, with the name of the key that made each. */
export async function listAuditEntries(
  db: Queryable,
  workspaceId: string,
  filter: AuditFilter,
): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT a.id, a.at, a.key_id, k.name AS key_name, a.address, a.action, a.resource_type,
            a.resource_id
       FROM audit_log a
       LEFT JOIN api_keys k ON k.id = a.key_id AND k.workspace_id = a.workspace_id
      WHERE a.workspace_id = $1
        AND ($2::timestamptz IS NULL OR a.at >= $2)
        AND ($3::timestamptz IS NULL OR a.at < $3)
        AND ($4::text IS NULL OR a.action = $4)
        AND ($5::uuid IS NULL OR a.id < $5)
      ORDER BY a.id DESC
      LIMIT $6`,
    [
      workspaceId,
      filter.since ?? null,
      filter.until ?? null,
      filter.action ?? null,
      filter.before ?? null,
      filter.limit,
    ],
  );
  return rows;
}
