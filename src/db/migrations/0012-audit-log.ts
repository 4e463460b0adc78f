/**
 * The audit log (DESIGN.md section 4b): one row per change made with a workspace key, who
 * (the key), what (action and resource), when, and from where. Never a body, so never a
 * secret. Listed newest first per workspace (ids are UUIDv7, ordered by time).
 */
export const statements = [
  `CREATE TABLE audit_log (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT now(),
    key_id uuid NOT NULL,
    address text NOT NULL,
    action text NOT NULL,
    resource_type text NOT NULL,
    resource_id text
  )`,
  `CREATE INDEX audit_log_workspace_idx ON audit_log (workspace_id, id DESC)`,
];
