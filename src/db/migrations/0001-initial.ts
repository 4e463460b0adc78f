/** Workspaces, API keys, forms, responses and the transactional outbox. */
export const statements = [
  `CREATE TABLE workspaces (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    key_prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
  )`,
  `CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id, id DESC) WHERE revoked_at IS NULL`,
  `CREATE TABLE forms (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    title text NOT NULL,
    description text,
    status text NOT NULL CHECK (status IN ('draft', 'published')),
    version integer NOT NULL DEFAULT 1,
    fields jsonb NOT NULL,
    calculated_fields jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
  )`,
  `CREATE INDEX forms_workspace_idx ON forms (workspace_id, id DESC) WHERE deleted_at IS NULL`,
  `CREATE TABLE responses (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    form_id uuid NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    form_version integer NOT NULL,
    data jsonb NOT NULL,
    completed boolean NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    submitted_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    source text NOT NULL DEFAULT 'api',
    resume_token_hash text,
    idempotency_key text,
    idempotency_hash text
  )`,
  `CREATE INDEX responses_live_idx ON responses (form_id, submitted_at DESC, id DESC) WHERE NOT deleted`,
  `CREATE INDEX responses_form_deleted_idx ON responses (form_id, deleted)`,
  `CREATE INDEX responses_data_idx ON responses USING gin (data jsonb_path_ops)`,
  `CREATE UNIQUE INDEX responses_idempotency_idx ON responses (form_id, idempotency_key)
     WHERE idempotency_key IS NOT NULL`,
  `CREATE TABLE outbox (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL,
    form_id uuid NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz
  )`,
  `CREATE INDEX outbox_pending_idx ON outbox (created_at, id) WHERE dispatched_at IS NULL`,
];
