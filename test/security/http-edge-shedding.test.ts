import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectError } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/**
 * Load shedding (DESIGN.md section 3a): past a bound the API answers 503 `unavailable`
 * with Retry-After at once, while /healthz and /metrics stay answerable. The bounds are
 * crossed on purpose: the event loop of this (in-process) hub is blocked by a busy wait,
 * or the heap bound is set below what any process uses.
 */
function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // blocking the event loop is the point
  }
}

async function schemaUrl(hub: TestHub): Promise<string> {
  const ws = await hub.workspace();
  const res = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key: ws.key,
    payload: { title: 'T', fields: [{ key: 'q', type: 'text' }] },
  });
  return `/api/v2/forms/${res.json().id as string}/schema`;
}

describe('load shedding on event-loop delay', () => {
  let hub: TestHub;
  let url: string;
  beforeAll(async () => {
    hub = await startHub({ LOAD_SHEDDING: 'true', LOAD_SHEDDING_MAX_DELAY: '300ms' });
    url = await schemaUrl(hub);
  });
  afterAll(() => hub?.close());

  it('answers 503 with Retry-After after the loop was blocked; health and metrics still answer', async () => {
    // After start-up the hub serves (nothing is shed while the loop is fine).
    await vi.waitFor(
      async () => expect((await hub.request({ method: 'GET', url })).statusCode).toBe(200),
      {
        timeout: 10_000,
      },
    );
    await vi.waitFor(
      async () => {
        busyWait(1500);
        // Let the sampler (a due timer) see the blocked second before asking.
        await new Promise((resolve) => setTimeout(resolve, 0));
        const shed = await hub.request({ method: 'GET', url });
        expectError(shed, 503, 'unavailable');
        expect(Number(shed.headers['retry-after'])).toBeGreaterThan(0);
        expect((await hub.request({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
        expect((await hub.request({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      },
      { timeout: 20_000, interval: 50 },
    );
  });
});

describe('load shedding on heap', () => {
  let hub: TestHub;
  let off: TestHub;
  beforeAll(async () => {
    [hub, off] = await Promise.all([
      startHub({ LOAD_SHEDDING: 'true', LOAD_SHEDDING_MAX_HEAP_MB: '1' }),
      startHub({ LOAD_SHEDDING: 'false', LOAD_SHEDDING_MAX_HEAP_MB: '1' }),
    ]);
  });
  afterAll(async () => {
    await hub?.close();
    await off?.close();
  });

  it('answers every API request 503 while the heap is over its bound, unless LOAD_SHEDDING=false', async () => {
    const url = '/api/v2/forms/00000000-0000-7000-8000-000000000000/schema';
    await vi.waitFor(
      async () => expectError(await hub.request({ method: 'GET', url }), 503, 'unavailable'),
      {
        timeout: 10_000,
        interval: 100,
      },
    );
    const submit = await hub.request({
      method: 'POST',
      url: url.replace('/schema', '/responses'),
      payload: { data: {} },
    });
    expectError(submit, 503, 'unavailable');
    expect(submit.headers['retry-after']).toBeTruthy();
    expect((await hub.request({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // The same bound with shedding off is served (404: no such form).
    expectError(await off.request({ method: 'GET', url }), 404, 'not_found');
  });
});
