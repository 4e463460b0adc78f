/**
 * Retention per workspace (DESIGN.md section 4b): deliveries (with their attempt logs)
 * older than `retention_deliveries_days` are deleted by the worker; NULL keeps them.
 * `retention_responses_days` is stored for the same job's response half.
 */
export const statements = [
  `ALTER TABLE workspaces ADD COLUMN retention_deliveries_days integer
     CHECK (retention_deliveries_days BETWEEN 1 AND 3650)`,
  `ALTER TABLE workspaces ADD COLUMN retention_responses_days integer
     CHECK (retention_responses_days BETWEEN 1 AND 3650)`,
  `CREATE INDEX workspaces_retention_idx ON workspaces (id) WHERE retention_deliveries_days IS NOT NULL`,
];
