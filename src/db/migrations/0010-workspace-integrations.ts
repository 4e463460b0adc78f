/**
 * Workspace-wide integrations (DESIGN.md section 4a): an integration without a form fires for
 * every form of its workspace, forms created later included. `form_id` NULL is that; the
 * foreign key stays for the others.
 *
 * `integrations_workspace_idx` serves the workspace listings (`GET /webhooks`,
 * `GET /integrations`, newest first); `integrations_workspace_wide_idx` the relay, which
 * looks up the active workspace-wide integrations of the workspaces of each batch of events.
 */
export const statements = [
  `ALTER TABLE integrations ALTER COLUMN form_id DROP NOT NULL`,
  `CREATE INDEX integrations_workspace_idx ON integrations (workspace_id, id DESC) WHERE deleted_at IS NULL`,
  `CREATE INDEX integrations_workspace_wide_idx ON integrations (workspace_id)
     WHERE form_id IS NULL AND active AND deleted_at IS NULL`,
];
