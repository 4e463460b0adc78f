import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { notFound } from '../errors/index.ts';
import type { ExportJobRow } from './queries.ts';

/** A job's file as the download route sends it. */
export interface ExportFile {
  size: number;
  /** A strong ETag (the SHA-256 of the bytes) when the store knows it. */
  etag: string | undefined;
  stream(): Readable;
}

/**
 * The file of a job made before the artifact store (migration 18), served from this host's
 * disk until the sweep has moved it into the store; on another host it is not found.
 */
export async function localFile(job: ExportJobRow): Promise<ExportFile> {
  const path = job.file_path;
  const info = path ? await stat(path).catch(() => undefined) : undefined;
  if (!path || !info?.isFile()) throw notFound('export file');
  return { size: info.size, etag: undefined, stream: () => createReadStream(path) };
}
