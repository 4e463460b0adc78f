/**
 * Erasure jobs (DESIGN.md section 4b): a request to hard-delete the responses a DSL filter
 * matches, with all that holds their data, run by the worker in batches. `counts` says
 * what each committed batch deleted (updated in the batch's own transaction, so it is
 * true after a crash too); `form_cursor` is the form being worked on (forms are taken in
 * id order; those before it are done); `forms` lists the forms that lost responses (their
 * export files go at the end). `heartbeat_at` lets another worker take over a job whose
 * worker died.
 *
 * The two expression indexes find the events and deliveries that carry a response
 * (`payload -> 'response' ->> 'id'`) without scanning the outbox or the deliveries; the
 * payload never changes after insert, so the deliveries' HOT updates are unaffected.
 */
export const statements = [
  `CREATE TABLE erasures (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    form_id uuid,
    match jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    counts jsonb NOT NULL DEFAULT '{}',
    form_cursor uuid,
    forms uuid[] NOT NULL DEFAULT '{}',
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    heartbeat_at timestamptz,
    finished_at timestamptz
  )`,
  `CREATE INDEX erasures_workspace_idx ON erasures (workspace_id, id DESC)`,
  `CREATE INDEX erasures_pending_idx ON erasures (created_at) WHERE status IN ('queued', 'running')`,
  `CREATE INDEX outbox_response_idx ON outbox ((payload -> 'response' ->> 'id'))`,
  `CREATE INDEX deliveries_response_idx ON deliveries ((payload -> 'response' ->> 'id'))`,
];
