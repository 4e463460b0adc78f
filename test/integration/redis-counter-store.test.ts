import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisCounterStore } from '../../src/http/index.ts';
import { freePort } from '../support/process.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `formhub-test-counters:${randomBytes(4).toString('hex')}:`;
const redis = new Redis(REDIS_URL);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('RedisCounterStore (hits coalesced per pass of the event loop)', () => {
  it('gives concurrent hits of one key the counts consecutive INCRs would, in call order', async () => {
    const store = new RedisCounterStore(redis, prefix);
    const counts = await Promise.all(
      Array.from({ length: 200 }, () => store.hit(['rl:ip:a:1'], 60_000)),
    );
    expect(counts.map(([count]) => count)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(Number(await redis.get(`${prefix}rl:ip:a:1`))).toBe(200);
    const ttl = await redis.pttl(`${prefix}rl:ip:a:1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // A later pass goes on from there, and read() sees the same count.
    expect(await store.hit(['rl:ip:a:1'], 60_000)).toEqual([201]);
    expect(await store.read('rl:ip:a:1')).toBe(201);
  });

  it('counts each key of a hit apart, with keys shared between callers', async () => {
    const store = new RedisCounterStore(redis, prefix);
    const [a, b, c, d] = await Promise.all([
      store.hit(['rl:ip:x:1', 'rl:form:f1:1'], 60_000),
      store.hit(['rl:ip:x:1'], 60_000),
      store.hit(['rl:ip:y:1', 'rl:form:f1:1'], 60_000),
      store.hit(['rl:ip:x:1', 'rl:form:F2:1'], 60_000),
    ]);
    expect([a, b, c, d]).toEqual([[1, 1], [2], [1, 2], [3, 1]]);
    expect(Number(await redis.get(`${prefix}rl:form:f1:1`))).toBe(2);
    expect(Number(await redis.get(`${prefix}rl:form:F2:1`))).toBe(1);
  });

  it('sends one batch of commands for a pass, not one per hit', async () => {
    const store = new RedisCounterStore(redis, prefix);
    const before = await commandsProcessed();
    await Promise.all(Array.from({ length: 100 }, () => store.hit(['rl:ip:batch:1'], 60_000)));
    const used = (await commandsProcessed()) - before;
    // INCRBY + PEXPIRE for the one key, plus the first INFO; other clients of a shared Redis
    // (other test files) may add some, never near the 200 commands of a hit per request.
    expect(used).toBeLessThan(100);
    expect(Number(await redis.get(`${prefix}rl:ip:batch:1`))).toBe(100);
  });

  it('rejects every hit of the pass when Redis cannot answer (the limiter then falls back)', async () => {
    const port = await freePort(); // nothing listens there
    const down = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const store = new RedisCounterStore(down, prefix);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => store.hit(['rl:ip:down:1'], 60_000)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    down.disconnect();
  });
});

async function commandsProcessed(): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
}
