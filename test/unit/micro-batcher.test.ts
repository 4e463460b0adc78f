import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../src/delivery/micro-batcher.ts';
import { IntegrationCache } from '../../src/delivery/integration-cache.ts';

/** A batch runner that records its batches and doubles numbers (odd ones fail when `failOdd`). */
function recorder(options: { failOdd?: boolean; failBatches?: boolean } = {}) {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    await Promise.resolve();
    if (options.failBatches && items.length > 1) throw new Error('batch refused');
    if (options.failOdd && items.some((n) => n % 2 === 1))
      throw new Error(`odd in ${items.join(',')}`);
    return items.map((n) => n * 2);
  };
  return { batches, run };
}

/** A batch runner that answers its items unchanged once `release` is called. */
function gated() {
  const batches: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const run = async (items: number[]) => {
    batches.push(items);
    await gate;
    return items;
  };
  return { batches, run, release: () => release() };
}

describe('MicroBatcher', () => {
  it('runs calls made together as one batch, in arrival order, each caller getting its own result', async () => {
    const r = recorder();
    const batcher = new MicroBatcher(r.run, { maxSize: 100, maxWaitMs: 5 });
    const results = await Promise.all([3, 1, 4, 1, 5].map((n) => batcher.add(n)));
    expect(results).toEqual([6, 2, 8, 2, 10]);
    expect(r.batches).toEqual([[3, 1, 4, 1, 5]]);
  });

  it('flushes as soon as a batch is full, without waiting for the batch in flight', async () => {
    const g = gated();
    const batcher = new MicroBatcher(g.run, { maxSize: 3, maxWaitMs: 60_000 });
    const first = [1, 2, 3].map((n) => batcher.add(n));
    expect(g.batches).toEqual([[1, 2, 3]]); // sent synchronously, on the third add
    const second = [4, 5, 6].map((n) => batcher.add(n));
    expect(g.batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]); // full again: sent although the first is in flight
    const last = batcher.add(7);
    expect(batcher.waiting).toBe(1);
    g.release();
    expect(await Promise.all([...first, ...second, last])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(g.batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('with nothing in flight, sends a lone item at the end of the event-loop turn, not after maxWaitMs', async () => {
    const r = recorder();
    const batcher = new MicroBatcher(r.run, { maxSize: 100, maxWaitMs: 60_000 });
    const started = performance.now();
    expect(await batcher.add(21)).toBe(42);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(r.batches).toEqual([[21]]);
  });

  it('gathers what arrives while a batch is in flight into the next one, sent when the first finishes', async () => {
    const g = gated();
    const batcher = new MicroBatcher(g.run, { maxSize: 100, maxWaitMs: 60_000 });
    const a = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => batcher.add(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(g.batches).toEqual([[1]]); // waits for the batch in flight (maxWaitMs is far off)
    g.release();
    expect(await Promise.all([a, ...rest])).toEqual([1, 2, 3, 4]);
    expect(g.batches).toEqual([[1], [2, 3, 4]]);
  });

  it('sends the next batch after maxWaitMs when the one in flight takes longer', async () => {
    const g = gated();
    const batcher = new MicroBatcher(g.run, { maxSize: 100, maxWaitMs: 10 });
    const a = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const b = batcher.add(2);
    const c = batcher.add(3);
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(g.batches).toEqual([[1]]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(g.batches).toEqual([[1], [2, 3]]); // the first is still in flight
    g.release();
    expect(await Promise.all([a, b, c])).toEqual([1, 2, 3]);
  });

  it("retries a failed batch item by item: only the bad item's caller gets an error", async () => {
    const r = recorder({ failOdd: true });
    const batcher = new MicroBatcher(r.run, { maxSize: 100, maxWaitMs: 1 });
    const settled = await Promise.allSettled([2, 3, 4].map((n) => batcher.add(n)));
    expect(settled[0]).toEqual({ status: 'fulfilled', value: 4 });
    expect(settled[1]).toMatchObject({ status: 'rejected', reason: new Error('odd in 3') });
    expect(settled[2]).toEqual({ status: 'fulfilled', value: 8 });
    expect(r.batches).toEqual([[2, 3, 4], [2], [3], [4]]);
  });

  it("without retrySingly, a failed batch rejects every caller with the batch's error", async () => {
    const r = recorder({ failBatches: true });
    const batcher = new MicroBatcher(r.run, { maxSize: 100, maxWaitMs: 1, retrySingly: false });
    const settled = await Promise.allSettled([1, 2].map((n) => batcher.add(n)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    for (const s of settled)
      expect((s as PromiseRejectedResult).reason).toEqual(new Error('batch refused'));
    expect(r.batches).toEqual([[1, 2]]);
  });

  it('rejects every caller when the runner answers the wrong number of results', async () => {
    const batcher = new MicroBatcher(async (items: number[]) => items.slice(1), {
      maxSize: 2,
      maxWaitMs: 1,
      retrySingly: false,
    });
    const settled = await Promise.allSettled([1, 2].map((n) => batcher.add(n)));
    for (const s of settled)
      expect((s as PromiseRejectedResult).reason).toEqual(
        new Error('a batch of 2 answered 1 results'),
      );
  });

  it('keeps working after a failure, and drain waits for batches in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: number[][] = [];
    const batcher = new MicroBatcher(
      async (items: number[]) => {
        seen.push(items);
        if (items.includes(0)) throw new Error('zero');
        await gate;
        return items;
      },
      { maxSize: 100, maxWaitMs: 50, retrySingly: false },
    );
    await expect(batcher.add(0)).rejects.toThrow('zero');
    const later = batcher.add(7);
    let drained = false;
    const draining = batcher.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([[0], [7]]);
    expect(drained).toBe(false);
    release();
    await draining;
    expect(await later).toBe(7);
  });
});

describe('IntegrationCache', () => {
  it('reads once per ttl, shares concurrent misses, reads again after the ttl or on fresh()', async () => {
    let now = 1_000;
    let reads = 0;
    const cache = new IntegrationCache(
      async (id) => {
        reads++;
        return { row: { id, failing_since: null } as never };
      },
      { ttlMs: 1_000, now: () => now },
    );
    const [a, b] = await Promise.all([cache.get('x'), cache.get('x')]);
    expect(a).toBe(b);
    expect(reads).toBe(1);
    now += 999;
    await cache.get('x');
    expect(reads).toBe(1);
    now += 1;
    await cache.get('x');
    expect(reads).toBe(2);
    await cache.fresh('x');
    expect(reads).toBe(3);
  });

  it('patches a cached row in place and forgets a failed read', async () => {
    let fail = true;
    let reads = 0;
    const cache = new IntegrationCache(async (id) => {
      reads++;
      if (fail) throw new Error('down');
      return { row: { id, failing_since: null } as never };
    });
    await expect(cache.get('x')).rejects.toThrow('down');
    fail = false;
    const since = new Date();
    await cache.get('x');
    cache.patch('x', { failing_since: since });
    expect((await cache.get('x'))!.row.failing_since).toBe(since);
    expect(reads).toBe(2);
    cache.forget('x');
    expect((await cache.get('x'))!.row.failing_since).toBeNull();
    expect(reads).toBe(3);
  });

  it('peek answers without waiting only a fresh, settled read, and follows patches', async () => {
    let now = 1_000;
    let release: () => void = () => undefined;
    const cache = new IntegrationCache(
      (id) =>
        new Promise((resolve) => {
          release = () => resolve({ row: { id, failing_since: null } as never });
        }),
      { ttlMs: 1_000, now: () => now },
    );
    expect(cache.peek('x')).toBeUndefined(); // never read
    const pending = cache.get('x');
    expect(cache.peek('x')).toBeUndefined(); // read in flight
    release();
    const read = await pending;
    expect(cache.peek('x')).toBe(read);
    const since = new Date();
    cache.patch('x', { failing_since: since });
    expect(cache.peek('x')).toBeUndefined(); // the patch is not settled yet
    expect((await cache.get('x'))!.row.failing_since).toBe(since);
    expect(cache.peek('x')!.row.failing_since).toBe(since);
    now += 1_000;
    expect(cache.peek('x')).toBeUndefined(); // expired
  });
});
