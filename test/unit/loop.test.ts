import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startLoop, type TickCause } from '../../src/common/index.ts';
import { MAX_RECONNECT_MS, reconnectDelay } from '../../src/db/reconnect-delay.ts';

const logger = pino({ level: 'silent' });

/** A promise and the function that resolves it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('startLoop wake', () => {
  it('runs a tick at once when woken, however long the idle wait', async () => {
    const causes: TickCause[] = [];
    const first = deferred();
    const second = deferred();
    const loop = startLoop(
      'test',
      async (cause) => {
        causes.push(cause);
        (causes.length === 1 ? first : second).resolve();
        return 0;
      },
      logger,
      { idleMs: 3_600_000 },
    );
    await first.promise;
    // The first tick's continuation schedules the hour's wait; a wake cuts it short.
    await new Promise((r) => setImmediate(r));
    loop.wake();
    await second.promise;
    await loop.stop();
    expect(causes).toEqual(['start', 'wake']);
  });

  it('folds wakes during a tick into exactly one more tick', async () => {
    const causes: TickCause[] = [];
    const gate = deferred();
    const started = deferred();
    const followUp = deferred();
    const loop = startLoop(
      'test',
      async (cause) => {
        causes.push(cause);
        if (causes.length === 1) {
          started.resolve();
          await gate.promise;
        }
        if (causes.length === 2) followUp.resolve();
        return 0;
      },
      logger,
      { idleMs: 3_600_000 },
    );
    await started.promise;
    for (let i = 0; i < 5; i++) loop.wake();
    gate.resolve();
    await followUp.promise;
    await loop.stop();
    expect(causes).toEqual(['start', 'wake']);
  });

  it('reads its idle interval after every tick', async () => {
    let idle = 3_600_000;
    const causes: TickCause[] = [];
    const polled = deferred();
    const loop = startLoop(
      'test',
      async (cause) => {
        causes.push(cause);
        if (cause === 'poll') polled.resolve();
        return 0;
      },
      logger,
      { idleMs: () => idle },
    );
    idle = 1;
    loop.wake(); // instead of the first tick; the one after it waits 1 ms, not an hour
    await polled.promise;
    await loop.stop();
    expect(causes.slice(0, 2)).toEqual(['wake', 'poll']);
  });
});

describe('reconnectDelay', () => {
  it('doubles from 100 ms (drawn from the upper half) up to 10 s', () => {
    expect(reconnectDelay(1, () => 0)).toBe(50);
    expect(reconnectDelay(1, () => 0.999999)).toBe(100);
    expect(reconnectDelay(2, () => 0.999999)).toBe(200);
    expect(reconnectDelay(4, () => 0)).toBe(400);
    expect(reconnectDelay(30, () => 0.999999)).toBe(MAX_RECONNECT_MS);
    expect(reconnectDelay(1_000, () => 0)).toBe(MAX_RECONNECT_MS / 2);
  });
});
