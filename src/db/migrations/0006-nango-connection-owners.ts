/**
 * Every Nango connection belongs to one workspace (DESIGN.md 3a). Before this, any
 * workspace could name any `connection_id` in an integration and the hub fetched that
 * connection's token with its own Nango secret key, so one tenant could use another's
 * Salesforce, Slack or Google account (DESIGN.md section 3a).
 *
 * The owner of a (provider_config_key, connection_id) pair is the workspace Nango names
 * as the connection's end user when it names one, otherwise the first workspace that
 * registered it in an integration. Existing integrations are back-filled that way (the
 * oldest integration naming a pair wins; Nango cannot be asked from a migration), and the
 * integrations of any other workspace that name an owned pair are turned off with a
 * reason their workspace can read: they are exactly the cross-tenant ones.
 */
export const statements = [
  `CREATE TABLE nango_connection_owners (
    provider_config_key text NOT NULL,
    connection_id text NOT NULL,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_config_key, connection_id)
  )`,
  `INSERT INTO nango_connection_owners (provider_config_key, connection_id, workspace_id, created_at)
   SELECT DISTINCT ON (provider_config_key, connection_id) provider_config_key, connection_id, workspace_id, created_at
   FROM integrations
   WHERE connection_id IS NOT NULL AND provider_config_key IS NOT NULL
   ORDER BY provider_config_key, connection_id, created_at, id`,
  `UPDATE integrations i SET active = false, updated_at = now(),
     disabled_reason = 'the Nango connection belongs to another workspace'
   FROM nango_connection_owners o
   WHERE o.provider_config_key = i.provider_config_key AND o.connection_id = i.connection_id
     AND o.workspace_id <> i.workspace_id AND i.active`,
];
