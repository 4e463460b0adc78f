/** Analytics: which events the aggregates have counted, forecast models, anomalies seen. */
export const statements = [
  `ALTER TABLE outbox ADD COLUMN aggregated_at timestamptz`,
  `CREATE INDEX outbox_unaggregated_idx ON outbox (form_id, created_at) WHERE aggregated_at IS NULL`,
  `CREATE TABLE analytics_models (
    scope text PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    form_id uuid REFERENCES forms (id) ON DELETE CASCADE,
    model jsonb NOT NULL,
    trained_at timestamptz NOT NULL
  )`,
  `CREATE TABLE analytics_anomalies (
    form_id uuid NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    day date NOT NULL,
    count integer NOT NULL,
    expected integer NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (form_id, day)
  )`,
];
