import { describe, expect, it } from 'vitest';
import {
  MetricsDocumentCache,
  serveDocument,
  type MetricsDocument,
} from '../../src/analytics/metrics/index.ts';

const doc = (total: number): MetricsDocument => ({
  form_id: 'f',
  total,
  completed: total,
  partial: 0,
  today: 0,
  completion_rate: 1,
  timeseries: { hour: [], day: [], month: [] },
  fields: { tags: { answered: 1, counts: { 'a "b" \\ ü': 1 } } },
});

describe('MetricsDocumentCache', () => {
  it('serves a document only under the key it was stored with', () => {
    const cache = new MetricsDocumentCache();
    const served = serveDocument(doc(1));
    cache.set('f', 'k1', served);
    expect(cache.get('f', 'k1')).toBe(served);
    expect(cache.get('f', 'k2')).toBeUndefined();
    expect(cache.get('g', 'k1')).toBeUndefined();
    cache.set('f', 'k2', serveDocument(doc(2)));
    expect(cache.get('f', 'k1')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('keeps at most `capacity` forms, dropping the least recently used', () => {
    const cache = new MetricsDocumentCache(2);
    cache.set('a', 'k', serveDocument(doc(1)));
    cache.set('b', 'k', serveDocument(doc(2)));
    expect(cache.get('a', 'k')).toBeDefined(); // a is now the most recent
    cache.set('c', 'k', serveDocument(doc(3)));
    expect(cache.size).toBe(2);
    expect(cache.get('b', 'k')).toBeUndefined();
    expect(cache.get('a', 'k')).toBeDefined();
    expect(cache.get('c', 'k')).toBeDefined();
  });

  it('serialises as JSON.stringify does, with an ETag of the bytes', () => {
    const a = serveDocument(doc(1));
    expect(a.json).toBe(JSON.stringify(doc(1)));
    expect(serveDocument(doc(1)).etag).toBe(a.etag);
    expect(serveDocument(doc(2)).etag).not.toBe(a.etag);
  });
});
