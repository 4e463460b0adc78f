import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Database, Queryable } from '../db/index.ts';
import * as q from './queries.ts';

/** What a sealed artifact is: its id, size in bytes, SHA-256 (hex) and when it expires. */
export interface StoredArtifact {
  id: string;
  size: number;
  sha256: string;
  chunks: number;
  expiresAt: Date;
}

export interface ArtifactWriterOptions {
  db: Database;
  id: string;
  chunkSize: number;
  /** How long the sealed artifact is kept (EXPORT_TTL for export files)... */
  ttlMs: number;
  /** ...unless it must expire at this very time (a file moved in keeps its expiry). */
  expiresAt?: Date | undefined;
  /** The writer's lease: renewed every quarter of it while the writer is open. */
  leaseMs: number;
  /**
   * Runs in the transaction that seals the artifact (e.g. marks the export job succeeded).
   * Answering false rolls it back: the artifact is discarded instead, and `stored` stays
   * undefined (the stream still finishes without error: nothing was wrong with the bytes).
   */
  onComplete?: ((tx: Queryable, artifact: StoredArtifact) => Promise<boolean>) | undefined;
}

class Discarded extends Error {}

/**
 * Streams bytes into an artifact: they fill a buffer of `chunkSize` bytes, and each full
 * buffer becomes one `artifact_chunks` row, inserted while the next fills; a third waits
 * for the insert (backpressure), so at most two chunks are held whatever the file's size. `end()` writes the last, partial chunk
 * and seals the artifact (size, SHA-256, expiry) in one transaction with `onComplete`. A
 * writer destroyed before that (an error upstream, an abort) deletes what it wrote; one
 * whose process dies leaves a `writing` row whose lease runs out and a sweep deletes it.
 */
export class ArtifactWriter extends Writable {
  readonly id: string;
  /** The sealed artifact once `finish` was emitted; undefined when `onComplete` refused it. */
  stored: StoredArtifact | undefined;
  private buffer: Buffer;
  private spare: Buffer;
  private inflight: Promise<void> = Promise.resolve();
  private filled = 0;
  private seq = 0;
  private size = 0;
  private readonly hash = createHash('sha256');
  private readonly lease: NodeJS.Timeout;
  private sealed = false;
  private cleanup: Promise<void> | undefined;

  constructor(private readonly opts: ArtifactWriterOptions) {
    super({ highWaterMark: opts.chunkSize });
    this.id = opts.id;
    this.buffer = Buffer.allocUnsafe(opts.chunkSize);
    this.spare = Buffer.allocUnsafe(opts.chunkSize);
    this.lease = setInterval(() => this.renew(), Math.max(1, opts.leaseMs / 4)).unref();
  }

  /** Resolves once the artifact is sealed or, after an error or a refusal, deleted. */
  async settled(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (this.closed) resolve();
      else this.once('close', () => resolve());
    });
    await this.cleanup;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error) => void): void {
    this.take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (e?: Error) => void): void {
    this.seal().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (e?: Error | null) => void): void {
    clearInterval(this.lease);
    if (this.sealed) return callback(error);
    this.cleanup ??= this.inflight.catch(() => undefined).then(() => this.discard());
    this.cleanup.then(
      () => callback(error),
      (failed: unknown) => callback(error ?? (failed as Error)),
    );
  }

  private async take(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.buffer.length - this.filled);
      chunk.copy(this.buffer, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.buffer.length) await this.flush();
    }
  }

  /**
   * Sends the full buffer as the next chunk and swaps to the spare one, so that the next chunk
   * fills while this one is inserted; it first waits for the insert before (at most one in
   * flight, two buffers in all).
   */
  private async flush(): Promise<void> {
    if (this.filled === 0) return;
    await this.inflight;
    const bytes = this.buffer.subarray(0, this.filled);
    this.inflight = q.insertChunk(this.opts.db, this.id, this.seq, bytes);
    this.inflight.catch(() => undefined); // awaited (and thrown) by the next flush or the seal
    [this.buffer, this.spare] = [this.spare, this.buffer];
    this.seq += 1;
    this.filled = 0;
  }

  private async seal(): Promise<void> {
    await this.flush();
    await this.inflight;
    clearInterval(this.lease);
    const { db, ttlMs, onComplete } = this.opts;
    const sha256 = this.hash.digest('hex');
    try {
      this.stored = await db.transaction(async (tx) => {
        const row = await q.completeArtifact(tx, {
          id: this.id,
          chunks: this.seq,
          size: this.size,
          sha256,
          ttlMs,
          expiresAt: this.opts.expiresAt,
        });
        if (!row)
          throw new Error('the artifact was deleted while it was written (its lease ran out)');
        const stored = {
          id: this.id,
          size: this.size,
          sha256,
          chunks: this.seq,
          expiresAt: row.expires_at,
        };
        if (onComplete && !(await onComplete(tx, stored))) throw new Discarded();
        return stored;
      });
      this.sealed = true;
    } catch (error) {
      if (!(error instanceof Discarded)) throw error;
      this.cleanup ??= this.discard();
      await this.cleanup;
    }
  }

  private renew(): void {
    q.renewLease(this.opts.db, this.id, this.opts.leaseMs).then(
      (held) => {
        if (!held && !this.sealed)
          this.destroy(
            new Error('the artifact was deleted while it was written (its lease ran out)'),
          );
      },
      // A missed renewal is retried at the next tick; the lease is four ticks long.
      () => undefined,
    );
  }

  private async discard(): Promise<void> {
    // Nothing is left behind: the chunks go with the row (ON DELETE CASCADE).
    await q.deleteArtifacts(this.opts.db, [this.id]);
  }
}
