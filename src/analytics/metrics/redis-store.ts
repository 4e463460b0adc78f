import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Contribution } from './contribution.ts';
import type { RawAggregates } from './document.ts';

const HASHES = ['counts', 'hours', 'days', 'months'] as const;
const DEDUPE_TTL_SECONDS = 14 * 24 * 3600;

/**
 * Applies one event's delta atomically, once: KEYS = built marker, dedupe key, generation,
 * then the four hashes; ARGV = dedupe TTL, then (hash index, field, increment) triples.
 * Answers -1 when the aggregates are not built (the caller leaves the event for the
 * rebuild), 0 when the event was applied before, 1 when applied now (and the generation,
 * which tells a served document it is stale, moved on).
 */
const APPLY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
for i = 2, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[4 + tonumber(ARGV[i])], ARGV[i + 1], tonumber(ARGV[i + 2]))
end
redis.call('INCR', KEYS[3])
return 1`;

/** The aggregates of a form and the stamp they were read under (see `MetricsStore.stamp`). */
export interface StampedAggregates {
  raw: RawAggregates;
  /** Undefined for aggregates written before stamps existed (nothing may be cached on them). */
  stamp: string | undefined;
}

/**
 * The Redis side of the metrics: pre-aggregated hashes per form, updated by deltas.
 *
 * Every change of a form's hashes changes its stamp, `<built version>:<epoch>:<generation>`:
 * a rebuild writes a fresh random epoch, each applied delta increments the generation in
 * the same script, and `invalidate` drops both. A document built from hashes read after a
 * stamp is therefore current for as long as the stamp is (MetricsDocumentCache). Anything
 * else that writes the hashes must move the stamp too.
 */
export class MetricsStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    if (!('formhubApplyMetricsV2' in redis)) {
      redis.defineCommand('formhubApplyMetricsV2', { numberOfKeys: 7, lua: APPLY });
    }
  }

  private key(formId: string, part: string): string {
    return `${this.prefix}an:${formId}:${part}`;
  }

  private hashKeys(formId: string): string[] {
    return HASHES.map((hash) => this.key(formId, hash));
  }

  /** Applies a delta for an event; see APPLY for the answers. */
  async apply(formId: string, eventId: string, change: Contribution): Promise<-1 | 0 | 1> {
    const args: (string | number)[] = [DEDUPE_TTL_SECONDS];
    HASHES.forEach((hash, index) => {
      for (const [field, increment] of Object.entries(change[hash]))
        args.push(index, field, increment);
    });
    const keys = [
      this.key(formId, 'built'),
      `${this.prefix}an:ev:${eventId}`,
      this.key(formId, 'gen'),
      ...this.hashKeys(formId),
    ];
    const run = (
      this.redis as unknown as Record<string, (...a: (string | number)[]) => Promise<number>>
    ).formhubApplyMetricsV2!;
    return (await run.call(this.redis, ...keys, ...args)) as -1 | 0 | 1;
  }

  /** The stamp of a form's aggregates, or null when they are not built (one round trip). */
  async stamp(formId: string): Promise<string | null> {
    const [built, epoch, gen] = await this.redis.mget(...this.stampKeys(formId));
    return stampOf(built ?? null, epoch ?? null, gen ?? null) ?? null;
  }

  /**
   * The aggregates and their stamp, or null when they are not built for this form version (a
   * form whose fields changed is recounted). Only the series keys are read. The stamp is read
   * first, in the same pipeline: a change made meanwhile leaves the hashes newer than the
   * stamp, never older, so whatever is cached under it is recomputed, never kept too long.
   */
  async read(
    formId: string,
    version: number,
    series: { hours: string[]; days: string[]; months: string[] },
  ): Promise<StampedAggregates | null> {
    const [counts, hours, days, months] = this.hashKeys(formId);
    const results = await this.redis
      .pipeline()
      .mget(...this.stampKeys(formId))
      .hgetall(counts!)
      .hmget(hours!, ...series.hours)
      .hmget(days!, ...series.days)
      .hmget(months!, ...series.months)
      .exec();
    if (!results || results.some(([error]) => error)) throw new Error('metrics read failed');
    const [built, epoch, gen] = results[0]![1] as (string | null)[];
    if (built !== String(version)) return null;
    // Built before stamps existed: give the aggregates an epoch (unless a rebuild just did),
    // so that the next read can be cached.
    if (!epoch) await this.redis.set(this.key(formId, 'epoch'), randomUUID(), 'NX');
    const zip = (keys: string[], values: unknown) =>
      Object.fromEntries(keys.map((k, i) => [k, Number((values as (string | null)[])[i] ?? 0)]));
    const rawCounts = results[1]![1] as Record<string, string>;
    return {
      raw: {
        counts: Object.fromEntries(Object.entries(rawCounts).map(([k, v]) => [k, Number(v)])),
        hours: zip(series.hours, results[2]![1]),
        days: zip(series.days, results[3]![1]),
        months: zip(series.months, results[4]![1]),
      },
      stamp: stampOf(built, epoch ?? null, gen ?? null),
    };
  }

  /** Forgets a form's aggregates: the next read rebuilds them from PostgreSQL. */
  async invalidate(formId: string): Promise<void> {
    await this.redis.del(...this.stampKeys(formId), ...this.hashKeys(formId));
  }

  /** Takes the rebuild lock of a form for `ms`; false when another process holds it. */
  async lock(formId: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.key(formId, 'lock'), '1', 'PX', ms, 'NX')) === 'OK';
  }

  async unlock(formId: string): Promise<void> {
    await this.redis.del(this.key(formId, 'lock'));
  }

  /**
   * Replaces a form's aggregates with a snapshot and marks the events the snapshot already
   * counts as applied, in one MULTI, then marks the aggregates built.
   */
  async write(
    formId: string,
    version: number,
    raw: RawAggregates,
    countedEventIds: readonly string[],
  ): Promise<void> {
    const [counts, hours, days, months] = this.hashKeys(formId);
    const multi = this.redis.multi().del(counts!, hours!, days!, months!);
    const put = (key: string, values: Record<string, number>) => {
      const entries = Object.entries(values).filter(([, v]) => v !== 0);
      if (entries.length > 0) multi.hset(key, Object.fromEntries(entries));
    };
    put(counts!, raw.counts);
    put(hours!, raw.hours);
    put(days!, raw.days);
    put(months!, raw.months);
    for (const id of countedEventIds)
      multi.set(`${this.prefix}an:ev:${id}`, '1', 'EX', DEDUPE_TTL_SECONDS);
    multi.del(this.key(formId, 'gen')).set(this.key(formId, 'epoch'), randomUUID());
    multi.set(this.key(formId, 'built'), String(version));
    const results = await multi.exec();
    if (!results || results.some(([error]) => error))
      throw new Error('metrics rebuild write failed');
  }

  private stampKeys(formId: string): string[] {
    return [this.key(formId, 'built'), this.key(formId, 'epoch'), this.key(formId, 'gen')];
  }
}

function stampOf(
  built: string | null,
  epoch: string | null,
  gen: string | null,
): string | undefined {
  if (built === null || !epoch) return undefined;
  return `${built}:${epoch}:${gen ?? '0'}`;
}
