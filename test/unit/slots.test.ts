import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/delivery/slots.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Slots', () => {
  it('never runs more than its size at once and runs every piece of work', async () => {
    const slots = new Slots(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        slots.use(async () => {
          running++;
          peak = Math.max(peak, running);
          await tick();
          running--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(slots.inUse).toBe(0);
  });

  it('gives the slot back when the work throws', async () => {
    const slots = new Slots(1);
    await expect(slots.use(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.use(async () => 'next')).toBe('next');
    expect(slots.inUse).toBe(0);
  });

  it('hands slots to waiters in arrival order, through thousands of them', async () => {
    const slots = new Slots(2);
    await slots.acquire();
    await slots.acquire();
    const order: number[] = [];
    const waiters = Array.from({ length: 3000 }, (_, i) =>
      slots.acquire().then(() => order.push(i)),
    );
    expect(slots.queued).toBe(3000);
    // Release one slot at a time, each time letting the woken waiter run: a FIFO queue of 3000.
    for (let i = 0; i < 3000; i++) {
      slots.release();
      await Promise.resolve();
    }
    await Promise.all(waiters);
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(slots.queued).toBe(0);
    expect(slots.inUse).toBe(2);
    slots.release();
    slots.release();
    expect(slots.inUse).toBe(0);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new Slots(0)).toThrow(RangeError);
    expect(() => new Slots(1.5)).toThrow(RangeError);
  });
});
