export { MetricsService, eventDelta, type ServedMetrics } from './service.ts';
export { MetricsDocumentCache, serveDocument, type ServedDocument } from './document-cache.ts';
export { MetricsStore } from './redis-store.ts';
export { buildDocument, type MetricsDocument, type RawAggregates } from './document.ts';
export { aggregatesFromSql } from './queries.ts';
export { contribution, delta, type Contribution } from './contribution.ts';
export { bucketKey, seriesKeys, SERIES_LENGTHS, type Granularity } from './buckets.ts';
export { MetricsChanges } from './changes.ts';
