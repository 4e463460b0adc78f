import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, sleep } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const WINDOW_MS = 60_000;

/**
 * The limits count in fixed windows; a test that straddles a window boundary would see
 * its counters reset halfway. Wait for a fresh window when little of this one is left.
 */
async function awaitRoomInWindow(neededMs = 10_000): Promise<void> {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < neededMs) await sleep(left + 50);
}

async function setUp(hub: TestHub, titles: string[]) {
  const ws = await hub.workspace();
  const forms: string[] = [];
  for (const title of titles) {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: { title, fields: [{ key: 'q', type: 'text' }] },
    });
    expect(res.statusCode).toBe(201);
    forms.push(res.json().id as string);
  }
  return { ws, forms };
}

const submit = (hub: TestHub, formId: string, opts: { key?: string; ip?: string } = {}) =>
  hub.request({
    method: 'POST',
    url: `/api/v2/forms/${formId}/responses`,
    payload: { data: { q: 'x' } },
    ...(opts.key ? { key: opts.key } : {}),
    ...(opts.ip ? { remoteAddress: opts.ip } : {}),
  });

const countResponses = async (hub: TestHub, formId: string): Promise<number> => {
  const { rows } = await hub.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM responses WHERE form_id = $1',
    [formId],
  );
  return Number(rows[0]?.n);
};

function expectRateLimited(res: Awaited<ReturnType<typeof submit>>): void {
  expectError(res, 429, 'rate_limited');
  const retryAfter = res.headers['retry-after'];
  expect(retryAfter).toEqual(expect.any(String));
  expect(retryAfter).toMatch(/^\d+$/);
  const seconds = Number(retryAfter);
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(WINDOW_MS / 1000);
}

describe('rate limits per client address', () => {
  let hub: TestHub;
  let ws: { id: string; key: string };
  let forms: string[];

  beforeAll(async () => {
    hub = await startHub({
      RATE_LIMIT_PER_IP: '3',
      RATE_LIMIT_PER_FORM: '0',
      RATE_LIMIT_WINDOW: '1m',
    });
    ({ ws, forms } = await setUp(hub, ['one', 'two']));
    await awaitRoomInWindow();
  }, 90_000);
  afterAll(async () => hub.close());

  it('answers the 4th public submission from one address with 429 and Retry-After, storing nothing', async () => {
    const [form, other] = forms as [string, string];
    for (let i = 0; i < 3; i++) {
      const res = await submit(hub, form, { ip: '10.0.0.1' });
      expect(res.statusCode, res.body).toBe(201);
    }
    expectRateLimited(await submit(hub, form, { ip: '10.0.0.1' }));
    // The limit is per address, whichever form it targets.
    expectRateLimited(await submit(hub, other, { ip: '10.0.0.1' }));
    expect(await countResponses(hub, form)).toBe(3);
    expect(await countResponses(hub, other)).toBe(0);
  });

  it('other addresses have their own allowance', async () => {
    const [form] = forms as [string];
    const res = await submit(hub, form, { ip: '10.0.0.2' });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('does not limit requests with a workspace key', async () => {
    const [form] = forms as [string];
    expectRateLimited(await submit(hub, form, { ip: '10.0.0.1' }));
    for (let i = 0; i < 6; i++) {
      const res = await submit(hub, form, { ip: '10.0.0.1', key: ws.key });
      expect(res.statusCode, res.body).toBe(201);
    }
  });

  it('counts schema loads against the same per-address allowance', async () => {
    const [form] = forms as [string];
    const load = () =>
      hub.request({
        method: 'GET',
        url: `/api/v2/forms/${form}/schema`,
        remoteAddress: '10.0.0.3',
      });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await load()).statusCode);
    expect(codes).toEqual([200, 200, 200]);
    expectRateLimited(await load());
    expectRateLimited(await submit(hub, form, { ip: '10.0.0.3' }));
  });

  it('lets exactly the allowance through when the requests of one address arrive together', async () => {
    // Hits asked in one pass of the event loop reach Redis as one batch: the batch must
    // still hand out one count per request, so 3 of 12 concurrent loads pass, not 12 or 0.
    const [form] = forms as [string];
    const codes = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const res = await hub.request({
          method: 'GET',
          url: `/api/v2/forms/${form}/schema`,
          remoteAddress: '10.0.0.9',
        });
        return res.statusCode;
      }),
    );
    expect(codes.filter((code) => code === 200)).toHaveLength(3);
    expect(codes.filter((code) => code === 429)).toHaveLength(9);
  });

  it('counts the default (inject) address too', async () => {
    const [, other] = forms as [string, string];
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await submit(hub, other)).statusCode);
    expect(codes).toEqual([201, 201, 201, 429]);
  });
});

describe('rate limits per form', () => {
  let hub: TestHub;
  let forms: string[];

  beforeAll(async () => {
    hub = await startHub({
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_FORM: '2',
      RATE_LIMIT_WINDOW: '1m',
    });
    ({ forms } = await setUp(hub, ['busy', 'quiet']));
    await awaitRoomInWindow();
  }, 90_000);
  afterAll(async () => hub.close());

  it('answers the 3rd public submission to one form with 429, whatever the address', async () => {
    const [busy, quiet] = forms as [string, string];
    expect((await submit(hub, busy, { ip: '192.0.2.1' })).statusCode).toBe(201);
    expect((await submit(hub, busy, { ip: '192.0.2.2' })).statusCode).toBe(201);
    expectRateLimited(await submit(hub, busy, { ip: '192.0.2.3' }));
    expect(await countResponses(hub, busy)).toBe(2);
    // Another form has its own allowance, from an address that was just refused.
    expect((await submit(hub, quiet, { ip: '192.0.2.3' })).statusCode).toBe(201);
  });
});
