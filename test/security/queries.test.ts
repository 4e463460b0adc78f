import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/http/cursor.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/receiver.ts';
import { watchEventLoop, whileWatching } from './loop-watch.ts';

/**
 * DESIGN.md section 3a, "Query DSL": breadth, QUERY_TIMEOUT, cancellation on disconnect,
 * dates and offsets. Each case reproduces an attack that answered 500s or kept PostgreSQL
 * busy for seconds after the client left.
 */

const FIELDS = [
  { key: 'name', type: 'text' },
  { key: 'age', type: 'integer' },
];
/** Enough rows that 200 `$contains` over a long text run for tens of seconds (~30 s here). */
const ROWS = 20_000;

/** 200 predicates (the most a filter may hold), each a substring search that never matches. */
const SLOW_FILTER = {
  $or: Array.from({ length: 200 }, (_, i) => ({ 'data.name': { $contains: `zz${i}q` } })),
};
const ors = (n: number) => ({ $or: Array.from({ length: n }, (_, i) => ({ 'data.age': i })) });

/** Statements of the DSL (`strpos` is in every one of SLOW_FILTER) running now on `db`. */
async function runningDslQueries(hub: TestHub): Promise<number> {
  const { rows } = await hub.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
       AND query LIKE '%strpos(%'`,
  );
  return rows[0]!.n;
}

describe('query DSL and listing parameters under attack', () => {
  let hub: TestHub;
  /** A second hub on the same database, with QUERY_TIMEOUT=200ms. */
  let strict: TestHub;
  let key: string;
  let formId: string;

  beforeAll(async () => {
    hub = await startHub({ QUERY_TIMEOUT: '120s' });
    key = (await hub.workspace()).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Q', fields: FIELDS },
    });
    formId = form.json().id;
    // Real volume, made quickly: each name is 1,920 random hex characters.
    await hub.db.query(
      `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
       SELECT gen_random_uuid(), f.workspace_id, f.id, f.version,
              jsonb_build_object('name', (SELECT string_agg(md5((g * 100 + i)::text), '') FROM generate_series(1, 60) i),
                                 'age', g % 100),
              true, now() - g * interval '1 second', now()
       FROM forms f, generate_series(1, $2::int) g WHERE f.id = $1`,
      [formId, ROWS],
    );
    strict = await startHub({ QUERY_TIMEOUT: '200ms', DATABASE_URL: hub.config.database.url! });
  }, 120_000);
  afterAll(async () => {
    await strict?.close();
    await hub?.close();
  });

  const query = (target: TestHub, body: unknown) =>
    target.request({
      method: 'POST',
      url: `/api/v2/analytics/forms/${formId}/query`,
      key,
      payload: body as object,
    });
  const list = (target: TestHub, params: string) =>
    target.request({ method: 'GET', url: `/api/v2/forms/${formId}/responses?${params}`, key });
  const filterParam = (filter: unknown) => `filter=${encodeURIComponent(JSON.stringify(filter))}`;

  describe('breadth', () => {
    it('answers a 1,000-member $or with a fast 400 naming it, without blocking the event loop', async () => {
      // Warm both routes up first: what is measured is the hostile filter, not a first request.
      expect(
        (await query(hub, { aggregate: 'count', filter: { completed: true } })).statusCode,
      ).toBe(200);
      expect((await list(hub, `limit=1&${filterParam({ completed: true })}`)).statusCode).toBe(200);
      for (const send of [
        () => query(hub, { aggregate: 'count', filter: ors(1000) }),
        () => list(hub, filterParam(ors(1000))),
      ]) {
        const started = performance.now();
        const { result: res, stallMs } = await whileWatching(watchEventLoop(), send);
        expect(performance.now() - started).toBeLessThan(2_000); // it ran for minutes before
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().error).toMatchObject({
          code: 'invalid_request',
          details: [{ field: 'filter.$or' }],
        });
        expect(stallMs).toBeLessThan(100);
      }
    });

    it('answers 40,000 members with 400, not 500', async () => {
      const res = await query(hub, { aggregate: 'count', filter: ors(40_000) });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
      expect(res.json().error.details[0].field).toBe('filter.$or');
    });

    it('refuses 201 predicates spread over $and and $not, and a 1,001-member $in', async () => {
      const spread = { $and: [{ $not: ors(150) }, ors(51)] };
      const res = await query(hub, { aggregate: 'count', filter: spread });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details[0].field).toBe('filter.$and[1].$or[50].data.age');
      const wide = { 'data.age': { $in: Array.from({ length: 1001 }, (_, i) => i) } };
      const listed = await list(hub, filterParam(wide));
      expect(listed.statusCode).toBe(400);
      expect(listed.json().error.details[0].field).toBe('filter.data.age.$in');
    });
  });

  describe('dates, offsets, cursors and odd values', () => {
    it('answers offsets of +-16:00 with 400 in filters and in since/until', async () => {
      for (const t of ['2026-01-01T00:00:00+16:00', '2026-01-01T00:00:00-16:00']) {
        const res = await query(hub, { aggregate: 'count', filter: { submitted_at: { $gte: t } } });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().error.details[0].field).toBe('filter.submitted_at.$gte');
        const listed = await list(hub, filterParam({ updated_at: { $lt: t } }));
        expect(listed.statusCode, listed.body).toBe(400);
        for (const bound of ['since', 'until']) {
          const res2 = await list(hub, `${bound}=${encodeURIComponent(t)}`);
          expect(res2.statusCode, res2.body).toBe(400);
          expect(res2.json().error.details[0].field).toBe(bound);
        }
      }
    });

    it('answers a cursor of year -271821 (and other crafted instants) with 400', async () => {
      const id = '0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b';
      for (const t of [
        '-271821-04-20T00:00:00.000Z',
        '+275760-09-13T00:00:00.000Z',
        '0000-01-01T00:00:00.000Z',
      ]) {
        const res = await list(hub, `cursor=${encodeCursor({ t, id })}`);
        expect(res.statusCode, `${t}: ${res.body}`).toBe(400);
        expect(res.json().error.code).toBe('invalid_request');
      }
      const since = await list(hub, 'since=0000-01-01');
      expect(since.statusCode).toBe(400);
    });

    it('answers NUL, unpaired surrogates, NaN-like and huge values with 4xx, never 500', async () => {
      // Text that cannot be stored: 422 in a body (the DSL query), 400 in a query parameter.
      const unstorable: unknown[] = [
        { 'data.name': 'a\u0000b' },
        { 'data.name': { $contains: '\uD800' } },
        { 'data.name': { $in: ['x', '\uDC00y'] } },
      ];
      for (const filter of unstorable) {
        const res = await query(hub, { aggregate: 'count', filter });
        expect(res.statusCode, `${JSON.stringify(filter)}: ${res.body}`).toBe(422);
        expect(res.json().error.code).toBe('validation_failed');
        const listed = await list(hub, filterParam(filter));
        expect(listed.statusCode, `${JSON.stringify(filter)}: ${listed.body}`).toBe(400);
      }
      const filters: unknown[] = [
        { 'data.age': { $gt: 'NaN' } },
        { 'data.age': { $gt: {} } },
        { 'data.age': { $in: [[1]] } },
        { submitted_at: { $gte: 1e308 } },
      ];
      for (const filter of filters) {
        const res = await query(hub, { aggregate: 'count', filter });
        expect(res.statusCode, `${JSON.stringify(filter)}: ${res.body}`).toBe(400);
        const listed = await list(hub, filterParam(filter));
        expect(listed.statusCode, `${JSON.stringify(filter)}: ${listed.body}`).toBe(400);
      }
      // JSON cannot say NaN; 1e400 parses as Infinity.
      const infinite = await hub.request({
        method: 'POST',
        url: `/api/v2/analytics/forms/${formId}/query`,
        key,
        headers: { 'content-type': 'application/json' },
        payload: '{"aggregate":"count","filter":{"data.age":{"$gt":1e400}}}',
      });
      expect(infinite.statusCode, infinite.body).toBe(400);
      const huge = await query(hub, { aggregate: 'count', filter: { 'data.age': { $lt: 1e308 } } });
      expect(huge.statusCode, huge.body).toBe(200);
      expect(huge.json().result).toBe(ROWS);
    });
  });

  describe('stored values', () => {
    it('compares stored date-times whose offset PostgreSQL refuses as other types, not with a 500', async () => {
      const fields = [{ key: 'meeting', type: 'datetime' }];
      const created = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: { title: 'M', fields },
      });
      const meetingForm = created.json().id as string;
      // Stored as the response validator used to take it (offsets up to +-23:59).
      await hub.db.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
         SELECT gen_random_uuid(), f.workspace_id, f.id, f.version, jsonb_build_object('meeting', m), true, now(), now()
         FROM forms f, unnest($2::text[]) m WHERE f.id = $1`,
        [
          meetingForm,
          ['2026-01-01T10:00:00+16:00', '2026-01-01T10:00:00-23:30', '2026-01-01T10:00:00+01:00'],
        ],
      );
      const url = `/api/v2/analytics/forms/${meetingForm}/query`;
      const ask = (payload: object) => hub.request({ method: 'POST', url, key, payload });
      const counted = await ask({
        aggregate: 'count',
        filter: { 'data.meeting': { $gte: '2025-01-01' } },
      });
      expect(counted.statusCode, counted.body).toBe(200);
      expect(counted.json().result).toBe(1);
      const grouped = await ask({
        aggregate: 'count',
        group_by: { date_trunc: 'day', field: 'data.meeting' },
      });
      expect(grouped.statusCode, grouped.body).toBe(200);
      expect(grouped.json().result).toEqual({ '2026-01-01': 1, null: 2 });
      const latest = await ask({ aggregate: 'max', field: 'data.meeting' });
      expect(latest.json().result).toBe('2026-01-01T09:00:00.000Z');
    });
  });

  describe('QUERY_TIMEOUT', () => {
    it('cancels a slow analytics query and a slow listing: 503 query_timeout, nothing left running', async () => {
      for (const send of [
        () => query(strict, { aggregate: 'count', filter: SLOW_FILTER }),
        () => list(strict, filterParam(SLOW_FILTER)),
      ]) {
        const started = performance.now();
        const res = await send();
        expect(res.statusCode, res.body).toBe(503);
        expect(res.json()).toMatchObject({ error: { code: 'query_timeout' } });
        // Well under the ~30 s the statement needs when nothing stops it.
        expect(performance.now() - started).toBeLessThan(10_000);
        expect(await runningDslQueries(strict)).toBe(0);
      }
      // The connections are reusable: a fast listing (by its index) still answers in time.
      const fast = await list(strict, 'limit=1');
      expect(fast.statusCode, fast.body).toBe(200);
      expect(fast.json().data).toHaveLength(1);
    });
  });

  describe('a client that disconnects', () => {
    let base: { host: string; port: number };
    beforeAll(async () => {
      await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const address = hub.app.server.address() as AddressInfo;
      base = { host: '127.0.0.1', port: address.port };
    });

    /** Sends a request over a real socket; the caller destroys it mid-query. */
    function send(method: 'GET' | 'POST', path: string, body?: unknown): http.ClientRequest {
      const req = http.request({
        ...base,
        method,
        path,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      });
      req.on('error', () => undefined); // expected: the test destroys the socket
      req.end(body === undefined ? undefined : JSON.stringify(body));
      return req;
    }

    it.each([
      ['an analytics query', 'POST'],
      ['a listing', 'GET'],
    ] as const)('cancels %s in PostgreSQL as soon as the client leaves', async (_name, method) => {
      const req =
        method === 'POST'
          ? send('POST', `/api/v2/analytics/forms/${formId}/query`, {
              aggregate: 'count',
              filter: SLOW_FILTER,
            })
          : send('GET', `/api/v2/forms/${formId}/responses?${filterParam(SLOW_FILTER)}`);
      await eventually(async () => ((await runningDslQueries(hub)) > 0 ? true : undefined), 20_000);
      const left = performance.now();
      req.destroy();
      // Uncancelled, the statement would run ~30 s (QUERY_TIMEOUT is 120 s on this hub).
      await eventually(
        async () => ((await runningDslQueries(hub)) === 0 ? true : undefined),
        5_000,
      );
      expect(performance.now() - left).toBeLessThan(5_000);
    });

    it('still answers afterwards (cancelled connections are not reused)', async () => {
      const res = await query(hub, { aggregate: 'count', filter: { 'data.age': { $in: [1, 2] } } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().result).toBe((2 * ROWS) / 100);
    });
  });
});
