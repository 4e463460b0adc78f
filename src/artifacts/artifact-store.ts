import { uuidv7 } from '../common/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { ArtifactReader } from './artifact-reader.ts';
import { ArtifactWriter, type StoredArtifact } from './artifact-writer.ts';
import * as q from './queries.ts';

/** 512 KiB: the chunk size of new artifacts (docs/BENCHMARKS.md, "Artifacts", measures it). */
export const ARTIFACT_CHUNK_SIZE = 512 * 1024;
/** A writer that has not renewed its lease for this long is taken as dead; its artifact is swept. */
export const ARTIFACT_LEASE_MS = 60_000;
/** About this many bytes of chunks are deleted per statement by the sweep. */
const DELETE_BATCH_BYTES = 32 * 1024 * 1024;

export interface ArtifactStoreOptions {
  db: Database;
  /** Bytes per chunk of the artifacts this store writes (tests use small ones). */
  chunkSize?: number | undefined;
  leaseMs?: number | undefined;
}

export interface CreateArtifactOptions {
  workspaceId: string;
  /** What the artifact is (`export`); for operators reading the table. */
  kind: string;
  /** How long it is kept once sealed... */
  ttlMs: number;
  /** ...unless it must expire at this very time. */
  expiresAt?: Date | undefined;
  onComplete?: (tx: Queryable, artifact: StoredArtifact) => Promise<boolean>;
}

/** What a reader opens: the artifact's size, digest and expiry, and its byte stream. */
export interface OpenedArtifact {
  id: string;
  size: number;
  sha256: string;
  expiresAt: Date;
  stream(): ArtifactReader;
}

/**
 * Files kept in PostgreSQL in fixed-size chunks (DESIGN.md section 4c), so that whichever
 * process wrote one, any process serves it: written as a stream (`create`), read as a stream
 * (`open`), deleted when they expire (`sweep`) or at once (`delete`), all by any process.
 * It works alike on PostgreSQL and on the embedded PGlite (bytea both ways). See
 * docs/exports.md, "Where the files live".
 */
export class ArtifactStore {
  readonly chunkSize: number;
  private readonly leaseMs: number;

  constructor(private readonly opts: ArtifactStoreOptions) {
    this.chunkSize = opts.chunkSize ?? ARTIFACT_CHUNK_SIZE;
    this.leaseMs = opts.leaseMs ?? ARTIFACT_LEASE_MS;
  }

  /**
   * Records a new artifact (`writing`) and answers the stream that fills it: pipe the bytes
   * in; `finish` means sealed (or refused by `onComplete`: see `ArtifactWriter.stored`).
   */
  async create(options: CreateArtifactOptions): Promise<ArtifactWriter> {
    const id = uuidv7();
    await q.insertArtifact(this.opts.db, {
      id,
      workspaceId: options.workspaceId,
      kind: options.kind,
      chunkSize: this.chunkSize,
      leaseMs: this.leaseMs,
    });
    return new ArtifactWriter({
      db: this.opts.db,
      id,
      chunkSize: this.chunkSize,
      ttlMs: options.ttlMs,
      expiresAt: options.expiresAt,
      leaseMs: this.leaseMs,
      onComplete: options.onComplete,
    });
  }

  /** A sealed, unexpired artifact of the workspace, or undefined (another workspace's too). */
  async open(workspaceId: string, id: string): Promise<OpenedArtifact | undefined> {
    const { db } = this.opts;
    const row = await q.findComplete(db, workspaceId, id);
    if (!row) return undefined;
    return {
      id: row.id,
      size: Number(row.size),
      sha256: row.sha256 ?? '',
      expiresAt: row.expires_at,
      // The primary, not the replica: a file sealed a moment ago may not be there yet.
      stream: () => new ArtifactReader({ db, artifact: row }),
    };
  }

  /** Makes artifacts due at once (the next sweep deletes them, in batches). */
  expire(ids: readonly string[]): Promise<void> {
    return q.expireArtifacts(this.opts.db, ids);
  }

  /**
   * Deletes every artifact past its expiry (sealed ones past their TTL, unsealed ones past
   * their writer's lease), each in statements of about 32 MiB of chunks, then its row.
   * Several processes may sweep at once: they share the work, and none serves an artifact
   * one of them took. Answers how many artifacts went.
   */
  async sweep(maxArtifacts = 1_000): Promise<number> {
    const { db } = this.opts;
    let deleted = 0;
    for (;;) {
      const ids = await q.claimDue(db, Math.min(20, maxArtifacts - deleted));
      for (const id of ids) {
        const batch = Math.max(1, Math.floor(DELETE_BATCH_BYTES / this.chunkSize));
        while ((await q.deleteChunkBatch(db, id, batch)) > 0);
        deleted += await q.deleteArtifacts(db, [id]);
      }
      if (ids.length === 0 || deleted >= maxArtifacts) return deleted;
    }
  }
}

/** Deletes artifacts and their chunks in the caller's transaction (an erasure's); answers how many. */
export function deleteArtifacts(tx: Queryable, ids: readonly string[]): Promise<number> {
  return q.deleteArtifacts(tx, ids);
}
