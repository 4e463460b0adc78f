/**
 * Connector versions (docs/plugins.md, "Versions"): the connector version an integration's
 * config was last validated with (its creation, a PATCH, or a start-up that found a new
 * version of the connector), and why it needs an update when a new major version of its
 * connector no longer accepts its config. NULL version: created before this migration; the
 * next start records the running version.
 */
export const statements = [
  `ALTER TABLE integrations ADD COLUMN connector_version text, ADD COLUMN needs_update_reason text`,
];
