/**
 * Artifacts (DESIGN.md section 4c): files the hub makes for later download (export job
 * files) kept in PostgreSQL, so that any API process serves any of them. An artifact is one
 * row, its bytes fixed-size chunks of `artifact_chunks` keyed by `(artifact_id, seq)`.
 *
 * `status`: `writing` while a process streams it in (its lease, `expires_at`, renewed while
 * it writes: a writer that dies leaves a row the sweep deletes once the lease runs out),
 * `complete` once every chunk and the size and digest are in (downloadable until
 * `expires_at`, EXPORT_TTL after), `deleting` once a sweep has taken it (never served again;
 * any process's sweep finishes it). Chunks are stored EXTERNAL (out of line, uncompressed):
 * export files are often already compressed (XLSX is a zip) and pglz would cost every write
 * CPU for little (docs/BENCHMARKS.md, "Artifacts"). Export jobs point at their artifact.
 */
export const statements = [
  `CREATE TABLE artifacts (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind text NOT NULL,
    status text NOT NULL CHECK (status IN ('writing', 'complete', 'deleting')),
    chunk_size integer NOT NULL CHECK (chunk_size > 0),
    chunks integer,
    size bigint,
    sha256 text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    expires_at timestamptz NOT NULL
  )`,
  `CREATE INDEX artifacts_expiry_idx ON artifacts (expires_at)`,
  `CREATE INDEX artifacts_deleting_idx ON artifacts (id) WHERE status = 'deleting'`,
  `CREATE TABLE artifact_chunks (
    artifact_id uuid NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    bytes bytea NOT NULL,
    PRIMARY KEY (artifact_id, seq)
  )`,
  `ALTER TABLE artifact_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL`,
  `ALTER TABLE export_jobs ADD COLUMN artifact_id uuid REFERENCES artifacts (id) ON DELETE SET NULL`,
  `CREATE INDEX export_jobs_artifact_idx ON export_jobs (artifact_id) WHERE artifact_id IS NOT NULL`,
  `CREATE INDEX export_jobs_local_file_idx ON export_jobs (id)
     WHERE status = 'succeeded' AND artifact_id IS NULL AND file_path IS NOT NULL`,
];
