export type { Caches, NamedCache, NamedCacheOptions } from './cache.ts';
export { TieredCaches, type TieredCachesOptions } from './tiered-caches.ts';
export { DisabledCaches } from './disabled-caches.ts';
export { createCaches } from './create-caches.ts';
export {
  cached,
  cachedRoutes,
  invalidateRouteCaches,
  type CachedRouteOptions,
} from './route-cache.ts';
