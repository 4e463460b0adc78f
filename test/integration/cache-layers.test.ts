import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TieredCaches, type TieredCachesOptions } from '../../src/cache/index.ts';
import { sleep } from '../support/api.ts';
import { freePort } from '../support/process.ts';
import { busSubscribed } from '../support/cache-bus.ts';
import { redisAnswers, type Child, adopt, waitUntil } from '../support/resilience.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: Array<{ caches: TieredCaches; redis: Redis }> = [];

async function layers(
  overrides: Partial<TieredCachesOptions> & { prefix: string; redisUrl?: string },
) {
  const redisUrl = overrides.redisUrl ?? REDIS_URL;
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 500),
  });
  redis.on('error', () => undefined);
  await redis.connect();
  const registry = new Registry();
  const caches = new TieredCaches({
    redis,
    redisUrl,
    l1TtlMs: 60_000,
    l2TtlMs: 60_000,
    l1MaxItems: 1_000,
    registry,
    ...overrides,
  });
  opened.push({ caches, redis });
  return { caches, redis, registry };
}

const prefix = () => `formhub-test:${randomBytes(4).toString('hex')}:`;

/** Resolves at `instant` (ms since the epoch): for a test of lifetimes, where time is the subject. */
const until = (instant: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, instant - Date.now())));

/** A value source that counts its loads, like a table read. */
function source<T>(initial: T, delayMs = 0) {
  const state = { value: initial, loads: 0 };
  const load = async () => {
    state.loads++;
    if (delayMs) await sleep(delayMs);
    return state.value;
  };
  return { state, load };
}

async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return match?.value ?? 0;
}

afterEach(async () => {
  for (const { caches, redis } of opened.splice(0)) {
    await caches.close();
    redis.disconnect();
  }
});

describe('tiered caches (bentocache over real Redis)', () => {
  it('makes one load for 100 concurrent misses of one key', async () => {
    const { caches } = await layers({ prefix: prefix() });
    const forms = caches.named<{ v: number }>('forms');
    const { state, load } = source({ v: 1 }, 50);
    const values = await Promise.all(Array.from({ length: 100 }, () => forms.get('k', load)));
    expect(state.loads).toBe(1);
    expect(values.every((v) => v?.v === 1)).toBe(true);
  });

  it('serves L1, then L2 once L1 expires, then the loader once L2 expires', async () => {
    const shared = prefix();
    const { caches, registry, redis } = await layers({
      prefix: shared,
      l1TtlMs: 200,
      l2TtlMs: 3_000,
    });
    const forms = caches.named<{ v: number }>('forms');
    const { state, load } = source({ v: 1 });
    const filled = Date.now();
    expect(await forms.get('k', load)).toEqual({ v: 1 });
    state.value = { v: 2 }; // changed behind the cache's back: only the TTLs can show it
    expect(await forms.get('k', load)).toEqual({ v: 1 });
    expect(
      await counter(registry, 'formhub_cache_hits_total', { cache: 'forms', layer: 'l1' }),
    ).toBe(1);
    // What is tested is time passing: wait until the L1 lifetime has surely run out (L2 has
    // 2.8 s more, a margin for a busy machine), rather than a guessed sleep.
    await until(filled + 200 + 50);
    const refilled = Date.now();
    expect(await forms.get('k', load)).toEqual({ v: 1 }); // L1 gone, L2 still holds v1
    expect(
      await counter(registry, 'formhub_cache_hits_total', { cache: 'forms', layer: 'l2' }),
    ).toBe(1);
    expect(state.loads).toBe(1);
    // Then until Redis itself has expired the L2 entry, and L1's refill has run out too.
    await waitUntil(
      async () => (await redis.exists(`${shared}cache:forms:k`)) === 0,
      15_000,
      'the L2 entry to expire',
      25,
    );
    await until(refilled + 200 + 50);
    expect(await forms.get('k', load)).toEqual({ v: 2 });
    expect(state.loads).toBe(2);
    expect(
      await counter(registry, 'formhub_cache_misses_total', { cache: 'forms', layer: 'l2' }),
    ).toBe(2);
  });

  it('does not store what the loader did not find', async () => {
    const { caches } = await layers({ prefix: prefix() });
    const keys = caches.named<{ id: string }>('api_keys');
    const { state, load } = source<{ id: string } | undefined>(undefined);
    expect(await keys.get('h', load)).toBeUndefined();
    state.value = { id: 'now-there' };
    expect(await keys.get('h', load)).toEqual({ id: 'now-there' });
  });

  it("drops a key from another process's L1 after invalidate", async () => {
    const shared = prefix();
    const a = await layers({ prefix: shared });
    const b = await layers({ prefix: shared });
    const { state, load } = source({ v: 1 });
    const formsA = a.caches.named<{ v: number }>('forms');
    const formsB = b.caches.named<{ v: number }>('forms');
    expect(await formsA.get('k', load)).toEqual({ v: 1 });
    expect(await formsB.get('k', load)).toEqual({ v: 1 }); // from L2, now in B's L1
    expect(await formsB.get('k', load)).toEqual({ v: 1 });
    // Both buses have subscribed once Redis counts them on the channel: a message published
    // from then on reaches both.
    await busSubscribed(a.redis, shared, 2);
    state.value = { v: 2 };
    await formsA.invalidate('k');
    expect(state.loads).toBe(1);
    // B serves v1 from its L1 until the bus message drops it; the deadline is a last guard.
    await waitUntil(
      async () => (await formsB.get('k', load))?.v === 2,
      15_000,
      "B's L1 to drop the key",
      20,
    );
    expect(state.loads).toBe(2);
  });

  it('drops a hot entry from another process at once, however long it could live', async () => {
    // A minute of life for hot entries: B can only see v2 if the bus message drops its hot
    // entry too (src/cache/hot-entries.ts), not by waiting for it to expire.
    const shared = prefix();
    const a = await layers({ prefix: shared, hotTtlMs: 60_000 });
    const b = await layers({ prefix: shared, hotTtlMs: 60_000 });
    const { state, load } = source({ v: 1 });
    const formsA = a.caches.named<{ v: number }>('forms');
    const formsB = b.caches.named<{ v: number }>('forms');
    expect(await formsA.get('k', load)).toEqual({ v: 1 }); // A's bus connects on first use
    expect(await formsB.get('k', load)).toEqual({ v: 1 });
    expect(await formsB.get('k', load)).toEqual({ v: 1 }); // hot now
    await busSubscribed(a.redis, shared, 2);
    state.value = { v: 2 };
    await formsA.invalidate('k');
    await waitUntil(
      async () => (await formsB.get('k', load))?.v === 2,
      15_000,
      "B's hot entry to drop the key",
      20,
    );
    // And locally: a set shows at once in the process that made it.
    await formsB.set('k', { v: 3 });
    expect(await formsB.get('k', load)).toEqual({ v: 3 });
  });

  it('revives values read back from L2 as JSON', async () => {
    const shared = prefix();
    const revive = (row: { at: Date }) => ({ at: new Date(row.at) });
    const a = await layers({ prefix: shared });
    const b = await layers({ prefix: shared });
    const at = new Date('2026-11-28T10:00:00.000Z');
    await a.caches.named('rows', { revive }).get('k', async () => ({ at }));
    const fromL2 = await b.caches.named('rows', { revive }).get('k', async () => undefined);
    expect(fromL2?.at).toBeInstanceOf(Date);
    expect(fromL2?.at.toISOString()).toBe(at.toISOString());
  });
});

describe('tiered caches while Redis is down', () => {
  let redisChild: Child | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await redisChild?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A private redis-server that keeps its data across a restart (append-only file). */
  async function startPersistentRedis(port: number): Promise<Child> {
    dir ??= mkdtempSync(join(tmpdir(), 'formhub-redis-'));
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--dir',
      dir,
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    const tracked = adopt(`redis-server:${port}`, child, () => output);
    await waitUntil(
      () => redisAnswers(`redis://127.0.0.1:${port}`),
      10_000,
      'private redis-server',
    );
    return tracked;
  }

  it('reads L1 and the loader while Redis is down, and clears L2 of stale entries after', async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    redisChild = await startPersistentRedis(port);
    const shared = prefix();
    const { caches } = await layers({ prefix: shared, redisUrl });
    const forms = caches.named<{ v: number }>('forms');
    const { state, load } = source({ v: 1 });
    expect(await forms.get('k', load)).toEqual({ v: 1 });
    const probe = new Redis(redisUrl);
    expect(await probe.exists(`${shared}cache:forms:k`)).toBe(1);
    probe.disconnect();

    await redisChild.stop();
    expect(await forms.get('k', load)).toEqual({ v: 1 }); // L1
    expect(await forms.get('other', async () => ({ v: 9 }))).toEqual({ v: 9 }); // loader, no error
    state.value = { v: 2 };
    await forms.invalidate('k'); // L2 cannot hear of it
    expect(await forms.get('k', load)).toEqual({ v: 2 });
    await sleep(800); // the second drop (after 500 ms) fails too: only the clear can help

    redisChild = await startPersistentRedis(port); // L2 comes back holding the stale v1
    const check = new Redis(redisUrl);
    try {
      await waitUntil(
        async () => (await check.exists(`${shared}cache:forms:k`)) === 0,
        10_000,
        'stale L2 entry cleared',
      );
      const fresh = await layers({ prefix: shared, redisUrl });
      expect(await fresh.caches.named<{ v: number }>('forms').get('k', load)).toEqual({ v: 2 });
    } finally {
      check.disconnect();
    }
  });
});
