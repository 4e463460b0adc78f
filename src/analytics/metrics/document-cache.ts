import { createHash } from 'node:crypto';
import type { MetricsDocument } from './document.ts';

/** A metrics document as served: the object, its JSON and the JSON's strong ETag. */
export interface ServedDocument {
  document: MetricsDocument;
  json: string;
  etag: string;
}

/** The document with its JSON (JSON.stringify: the key order of the document) and ETag. */
export function serveDocument(document: MetricsDocument): ServedDocument {
  const json = JSON.stringify(document);
  const etag = `"m-${createHash('sha1').update(json).digest('base64url')}"`;
  return { document, json, etag };
}

/** How many forms' documents one process keeps (about 6 KB each). */
const DEFAULT_CAPACITY = 1_000;

/**
 * The last metrics document served per form, in this process, under the key it is current
 * for: the form's version, the stamp of its Redis aggregates (which every applied delta and
 * every rebuild moves, across processes) and the UTC hour (the series, `today` and the
 * month all move on only at an hour's start). A read whose key matches serves the stored
 * JSON as it is: no hash read, no rebuild of the document, no serialisation. Least recently
 * used forms go first past `capacity`.
 */
export class MetricsDocumentCache {
  private readonly entries = new Map<string, { key: string; served: ServedDocument }>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get(formId: string, key: string): ServedDocument | undefined {
    const entry = this.entries.get(formId);
    if (!entry || entry.key !== key) return undefined;
    this.entries.delete(formId); // most recently used last
    this.entries.set(formId, entry);
    return entry.served;
  }

  set(formId: string, key: string, served: ServedDocument): void {
    this.entries.delete(formId);
    this.entries.set(formId, { key, served });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The cache key of a document: form version, aggregates stamp, UTC hour. */
export function documentKey(version: number, stamp: string, hour: string): string {
  return `${version}|${stamp}|${hour}`;
}
