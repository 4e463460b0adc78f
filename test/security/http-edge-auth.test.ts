import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, sleep } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/**
 * Client addresses (DESIGN.md section 3a): TRUST_PROXY decides whether X-Forwarded-For
 * names the client the rate limits count; repeated 401s from one address are limited, and
 * a flood of bad keys costs no queries.
 */
const WINDOW_MS = 60_000;

/** The limits count in fixed windows: start a test with room left in the current one. */
async function awaitRoomInWindow(neededMs = 15_000): Promise<void> {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < neededMs) await sleep(left + 50);
}

const badKey = () => `fh_${randomBytes(24).toString('base64url')}`;

async function formOf(hub: TestHub, key: string): Promise<string> {
  const res = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key,
    payload: { title: 'T', fields: [{ key: 'q', type: 'text' }] },
  });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

const schemaFrom = (hub: TestHub, formId: string, forwardedFor: string) =>
  hub.request({
    method: 'GET',
    url: `/api/v2/forms/${formId}/schema`,
    headers: { 'x-forwarded-for': forwardedFor },
  });

describe('TRUST_PROXY', () => {
  let trusting: TestHub;
  let direct: TestHub;
  beforeAll(async () => {
    const limits = { RATE_LIMIT_PER_IP: '2', RATE_LIMIT_PER_FORM: '0' };
    [trusting, direct] = await Promise.all([
      startHub({ ...limits, TRUST_PROXY: '127.0.0.1' }),
      startHub({ ...limits }),
    ]);
  });
  afterAll(async () => {
    await trusting?.close();
    await direct?.close();
  });

  it('X-Forwarded-For decides the bucket only when the proxy is trusted', async () => {
    await awaitRoomInWindow();
    const formId = await formOf(trusting, (await trusting.workspace()).key);
    expect((await schemaFrom(trusting, formId, '203.0.113.1')).statusCode).toBe(200);
    expect((await schemaFrom(trusting, formId, '203.0.113.1')).statusCode).toBe(200);
    const third = await schemaFrom(trusting, formId, '203.0.113.1');
    expectError(third, 429, 'rate_limited');
    expect(third.headers['retry-after']).toBeTruthy();
    expect((await schemaFrom(trusting, formId, '203.0.113.2')).statusCode).toBe(200);

    // No proxy trusted: the header is ignored, the socket address (127.0.0.1) counts.
    const directForm = await formOf(direct, (await direct.workspace()).key);
    expect((await schemaFrom(direct, directForm, '203.0.113.1')).statusCode).toBe(200);
    expect((await schemaFrom(direct, directForm, '203.0.113.2')).statusCode).toBe(200);
    expectError(await schemaFrom(direct, directForm, '203.0.113.3'), 429, 'rate_limited');
  });
});

describe('repeated 401s', () => {
  let hub: TestHub;
  let queries: string[];
  beforeAll(async () => {
    hub = await startHub({ RATE_LIMIT_UNAUTHORIZED: '5' });
    queries = [];
    const query = hub.db.query.bind(hub.db);
    hub.db.query = ((sql: string, params?: readonly unknown[]) => {
      queries.push(sql);
      return query(sql, params);
    }) as typeof hub.db.query;
  });
  afterAll(() => hub?.close());
  const keyLookups = () =>
    queries.filter((sql) => sql.includes('FROM api_keys WHERE key_hash')).length;
  const listForms = (key: string, ip: string) =>
    hub.request({ method: 'GET', url: '/api/v2/forms', key, remoteAddress: ip });

  it('past the limit an address gets 429 with Retry-After, and new bad keys cost no query', async () => {
    await awaitRoomInWindow();
    for (let i = 0; i < 5; i++)
      expectError(await listForms(badKey(), '198.51.100.7'), 401, 'unauthorized');
    const before = keyLookups();
    for (let i = 0; i < 20; i++) {
      const res = await listForms(badKey(), '198.51.100.7');
      expectError(res, 429, 'rate_limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(keyLookups()).toBe(before);
    // A malformed Authorization header counts as well.
    const malformed = await hub.request({
      method: 'GET',
      url: '/api/v2/forms',
      headers: { authorization: 'Basic abc' },
      remoteAddress: '198.51.100.7',
    });
    expectError(malformed, 429, 'rate_limited');
    // Another address is not affected.
    expectError(await listForms(badKey(), '198.51.100.8'), 401, 'unauthorized');
  });

  it('one bad key tried again and again is looked up once (negative cache)', async () => {
    await awaitRoomInWindow();
    const key = badKey();
    const before = keyLookups();
    for (let i = 0; i < 5; i++)
      expectError(await listForms(key, `198.51.100.${20 + i}`), 401, 'unauthorized');
    expect(keyLookups() - before).toBe(1);
  });

  it('a key created now works at once, from an address over its limit too once known', async () => {
    await awaitRoomInWindow();
    const ws = await hub.workspace();
    const created = await hub.request({
      method: 'POST',
      url: '/api/v2/api-keys',
      key: ws.key,
      payload: { name: 'new' },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json().key as string;
    expect((await listForms(key, '198.51.100.40')).statusCode).toBe(200);
    for (let i = 0; i < 6; i++) await listForms(badKey(), '198.51.100.40');
    expectError(await listForms(badKey(), '198.51.100.40'), 429, 'rate_limited');
    expect((await listForms(key, '198.51.100.40')).statusCode).toBe(200);
  });
});
