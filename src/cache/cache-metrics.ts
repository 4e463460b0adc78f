import { EventEmitter } from 'node:events';
import { Counter, type Registry } from 'prom-client';

export type CacheLayer = 'l1' | 'l2';

/**
 * Hit and miss counters per cache name and layer, fed by bentocache's events. Keys are
 * `<cache name>:<key>`, so the name is what precedes the first colon.
 */
export class CacheMetrics {
  private readonly hits: Counter<'cache' | 'layer'>;
  private readonly misses: Counter<'cache' | 'layer'>;

  constructor(registry: Registry | undefined) {
    const registers = registry ? [registry] : [];
    this.hits = counter(
      'formhub_cache_hits_total',
      'Cache hits by cache name and layer (l1 process, l2 Redis)',
      registers,
    );
    this.misses = counter(
      'formhub_cache_misses_total',
      'Cache misses by cache name and layer',
      registers,
    );
  }

  /** A hit answered without bentocache (src/cache/hot-entries.ts), counted as its layer's. */
  hit(cache: string, layer: CacheLayer): void {
    this.hits.inc({ cache, layer });
  }

  /** An emitter to hand to the BentoCache instance of `layer`. */
  emitterFor(layer: CacheLayer): EventEmitter {
    const emitter = new EventEmitter();
    emitter.on('cache:hit', (event: { key: string }) =>
      this.hits.inc({ cache: cacheName(event.key), layer }),
    );
    emitter.on('cache:miss', (event: { key: string }) =>
      this.misses.inc({ cache: cacheName(event.key), layer }),
    );
    return emitter;
  }
}

function counter(name: string, help: string, registers: Registry[]): Counter<'cache' | 'layer'> {
  const existing = registers[0]?.getSingleMetric(name);
  if (existing) return existing as Counter<'cache' | 'layer'>;
  return new Counter({ name, help, labelNames: ['cache', 'layer'], registers });
}

function cacheName(key: string): string {
  const colon = key.indexOf(':');
  return colon > 0 ? key.slice(0, colon) : key;
}
