import { Readable } from 'node:stream';
import type { Queryable } from '../db/index.ts';
import { selectChunks, type ArtifactRow } from './queries.ts';

export interface ArtifactReaderOptions {
  db: Queryable;
  artifact: ArtifactRow;
  /** Chunks fetched per query (default: about 2 MiB of them, at least 1). */
  batch?: number | undefined;
}

/** About this many bytes of chunks per query: few round trips, little memory. */
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Streams an artifact's bytes: a query fetches the next few chunks by `(artifact_id, seq)`
 * only when the consumer has taken the previous ones (the stream's buffer is one batch), so
 * memory stays at about two batches whatever the file's size. A chunk missing (the artifact
 * was deleted mid-way, e.g. by its expiry) or a size that does not add up destroys the
 * stream with an error: a download is cut rather than served short.
 */
export class ArtifactReader extends Readable {
  private next = 0;
  private sent = 0;
  private fetching = false;
  private readonly batch: number;

  constructor(private readonly opts: ArtifactReaderOptions) {
    const { chunk_size: chunkSize } = opts.artifact;
    const batch = opts.batch ?? Math.max(1, Math.floor(BATCH_BYTES / chunkSize));
    super({ highWaterMark: batch * chunkSize });
    this.batch = batch;
  }

  override _read(): void {
    // Node calls this again only after a push; a call during a fetch has its answer coming.
    if (this.fetching) return;
    this.fetching = true;
    this.fetch().catch((error: unknown) => this.destroy(error as Error));
  }

  private async fetch(): Promise<void> {
    const { db, artifact } = this.opts;
    const total = artifact.chunks ?? 0;
    const count = Math.min(this.batch, total - this.next);
    const rows = count > 0 ? await selectChunks(db, artifact.id, this.next, count) : [];
    this.fetching = false;
    if (rows.length < count) throw this.missing();
    for (const row of rows) {
      if (row.seq !== this.next) throw this.missing();
      const bytes = Buffer.isBuffer(row.bytes)
        ? row.bytes
        : Buffer.from(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength);
      this.next += 1;
      this.sent += bytes.length;
      this.push(bytes);
    }
    if (this.next >= total) this.finish();
  }

  private finish(): void {
    if (this.sent !== Number(this.opts.artifact.size))
      return void this.destroy(
        new Error(
          `artifact ${this.opts.artifact.id} is ${this.sent} bytes, not ${this.opts.artifact.size}`,
        ),
      );
    this.push(null);
  }

  private missing(): Error {
    return new Error(`artifact ${this.opts.artifact.id} lost chunk ${this.next}: it was deleted`);
  }
}
