import type { Database, Queryable } from '../db/index.ts';

/** A complete artifact as a reader sees it. */
export interface ArtifactRow {
  id: string;
  workspace_id: string;
  kind: string;
  status: 'writing' | 'complete' | 'deleting';
  chunk_size: number;
  chunks: number | null;
  size: string | number | null;
  sha256: string | null;
  created_at: Date;
  completed_at: Date | null;
  expires_at: Date;
}

const COLUMNS =
  'id, workspace_id, kind, status, chunk_size, chunks, size, sha256, created_at, completed_at, expires_at';

/** A chunk row as a driver answers it: pg gives a Buffer, PGlite a Uint8Array. */
export interface ChunkRow {
  seq: number;
  bytes: Uint8Array;
}

export async function insertArtifact(
  db: Queryable,
  a: { id: string; workspaceId: string; kind: string; chunkSize: number; leaseMs: number },
): Promise<void> {
  await db.query(
    `INSERT INTO artifacts (id, workspace_id, kind, status, chunk_size, expires_at)
     VALUES ($1, $2, $3, 'writing', $4, now() + make_interval(secs => $5))`,
    [a.id, a.workspaceId, a.kind, a.chunkSize, a.leaseMs / 1000],
  );
}

/**
 * Inserts one chunk with `synchronous_commit = off`: its commit does not wait for the WAL
 * flush (writes measured 1.3-2.0 times as fast,
 * docs/BENCHMARKS.md "Artifacts"). Nothing unsafe is served: the
 * sealing transaction commits synchronously, which flushes the WAL up to it and so every
 * chunk before it, and it checks that every chunk is there (`completeArtifact`), so chunks
 * lost in a database crash before the seal fail the seal instead of leaving a hole.
 */
export async function insertChunk(
  db: Database,
  id: string,
  seq: number,
  bytes: Uint8Array,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL synchronous_commit = off');
    await tx.query('INSERT INTO artifact_chunks (artifact_id, seq, bytes) VALUES ($1, $2, $3)', [
      id,
      seq,
      bytes,
    ]);
  });
}

/** Extends a writer's lease; false when the artifact is no longer being written (a sweep took it). */
export async function renewLease(db: Queryable, id: string, leaseMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE artifacts SET expires_at = now() + make_interval(secs => $2)
      WHERE id = $1 AND status = 'writing'`,
    [id, leaseMs / 1000],
  );
  return rowCount > 0;
}

/**
 * Seals a written artifact, if its chunks are all there (`chunks` rows holding `size` bytes
 * in all: sizes are read from the TOAST headers, the bytes are not read). Undefined when it is
 * no longer `writing` (its lease ran out and a sweep took it); throws when chunks are missing.
 */
export async function completeArtifact(
  db: Queryable,
  a: {
    id: string;
    chunks: number;
    size: number;
    sha256: string;
    ttlMs: number;
    expiresAt: Date | undefined;
  },
): Promise<ArtifactRow | undefined> {
  const { rows: held } = await db.query<{ chunks: number | string; bytes: number | string | null }>(
    `SELECT count(*) AS chunks, sum(octet_length(bytes)) AS bytes FROM artifact_chunks WHERE artifact_id = $1`,
    [a.id],
  );
  if (Number(held[0]?.chunks) !== a.chunks || Number(held[0]?.bytes ?? 0) !== a.size)
    throw new Error(
      `artifact ${a.id} holds ${held[0]?.chunks} chunks of ${held[0]?.bytes ?? 0} bytes, not ${a.chunks} of ${a.size}`,
    );
  const { rows } = await db.query<ArtifactRow>(
    `UPDATE artifacts SET status = 'complete', chunks = $2, size = $3, sha256 = $4, completed_at = now(),
       expires_at = coalesce($6::timestamptz, now() + make_interval(secs => $5))
     WHERE id = $1 AND status = 'writing' RETURNING ${COLUMNS}`,
    [a.id, a.chunks, a.size, a.sha256, a.ttlMs / 1000, a.expiresAt ?? null],
  );
  return rows[0];
}

/** A complete, unexpired artifact of the workspace (another workspace's is not found). */
export async function findComplete(
  db: Queryable,
  workspaceId: string,
  id: string,
): Promise<ArtifactRow | undefined> {
  const { rows } = await db.query<ArtifactRow>(
    `SELECT ${COLUMNS} FROM artifacts
      WHERE id = $1 AND workspace_id = $2 AND status = 'complete' AND expires_at > now()`,
    [id, workspaceId],
  );
  return rows[0];
}

/** Up to `limit` chunks of an artifact from `seq` on, in order. */
export async function selectChunks(
  db: Queryable,
  id: string,
  fromSeq: number,
  limit: number,
): Promise<ChunkRow[]> {
  const { rows } = await db.query<ChunkRow>(
    `SELECT seq, bytes FROM artifact_chunks WHERE artifact_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
    [id, fromSeq, limit],
  );
  return rows;
}

/** Deletes artifacts with their chunks at once (a cascade), in the caller's transaction. */
export async function deleteArtifacts(db: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.query('DELETE FROM artifacts WHERE id = ANY($1::uuid[])', [ids]);
  return rowCount;
}

/** Makes artifacts due now (their sweep deletes them); it never extends one. */
export async function expireArtifacts(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE artifacts SET expires_at = now() WHERE id = ANY($1::uuid[]) AND expires_at > now()`,
    [ids],
  );
}

/**
 * Takes up to `limit` artifacts past `expires_at` (complete ones past their TTL, writing ones
 * past their lease) for deletion, and answers them with any a sweep took before and did not
 * finish (a process stopped mid-way): from `deleting` on, no reader opens them and no writer
 * can seal them.
 */
export async function claimDue(db: Queryable, limit: number): Promise<string[]> {
  await db.query(
    `UPDATE artifacts SET status = 'deleting'
      WHERE id IN (SELECT id FROM artifacts WHERE expires_at <= now() AND status <> 'deleting'
                   ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    [limit],
  );
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM artifacts WHERE status = 'deleting' ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

/** Deletes up to `limit` chunks of an artifact (the first ones); answers how many went. */
export async function deleteChunkBatch(db: Queryable, id: string, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM artifact_chunks WHERE artifact_id = $1
       AND seq IN (SELECT seq FROM artifact_chunks WHERE artifact_id = $1 ORDER BY seq LIMIT $2)`,
    [id, limit],
  );
  return rowCount;
}
