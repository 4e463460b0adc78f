/** Import bodies built lazily from row generators, and a streaming HTTP POST to send them. */

import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const CHUNK_BYTES = 64 * 1024;

/** NDJSON in chunks of about 64 KiB: one JSON object per line. */
export function* ndjsonChunks(
  rows: Iterable<unknown>,
  chunkBytes = CHUNK_BYTES,
): Generator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = `${JSON.stringify(row)}\n`;
    parts.push(line);
    size += line.length;
    if (size >= chunkBytes) {
      yield Buffer.from(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield Buffer.from(parts.join(''));
}

/** A JSON array in chunks of about 64 KiB. */
export function* jsonArrayChunks(
  rows: Iterable<unknown>,
  chunkBytes = CHUNK_BYTES,
): Generator<Buffer> {
  let parts: string[] = ['['];
  let size = 1;
  let first = true;
  for (const row of rows) {
    const text = first ? JSON.stringify(row) : `,${JSON.stringify(row)}`;
    first = false;
    parts.push(text);
    size += text.length;
    if (size >= chunkBytes) {
      yield Buffer.from(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  parts.push(']');
  yield Buffer.from(parts.join(''));
}

export interface PostResult {
  status: number;
  body: string;
  /** Bytes of request body sent. */
  sent: number;
}

/**
 * POSTs a body streamed from `chunks` (chunked transfer encoding, no Content-Length) and
 * resolves with the answer. Fails after `timeoutMs` without an answer.
 */
export function postStream(
  url: URL,
  headers: Record<string, string>,
  chunks: Iterable<Buffer>,
  timeoutMs = 300_000,
): Promise<PostResult> {
  let sent = 0;
  const counted = function* () {
    for (const chunk of chunks) {
      sent += chunk.length;
      yield chunk;
    }
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), sent }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    pipeline(Readable.from(counted()), req).catch(reject);
  });
}
