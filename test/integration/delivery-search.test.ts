import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery } from '../support/deliveries.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

type Found = Delivery & { integration_id: string; event_id: string };

/**
 * `GET /deliveries` (DESIGN.md section 4b). The oracle is SQL over the whole deliveries table
 * and attempt log (no index, no walk per integration), in the API's order.
 */
describe('delivery search', () => {
  let hub: TestHub;
  let ok: Receiver;
  let failing: Receiver;
  const a = {
    key: '',
    id: '',
    forms: [] as string[],
    hooks: [] as string[],
    responses: [] as string[],
  };
  const b = { key: '', hook: '', form: '', response: '' };

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { worker: true });
    ok = await startReceiver(() => ({ status: 200 }));
    failing = await startReceiver(() => ({ status: 500 }));
    const made = async (key: string, path: string, payload: object) => {
      const res = await hub.request({ method: 'POST', url: `/api/v2${path}`, key, payload });
      if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${res.body}`);
      return (res.json() as { id: string }).id;
    };
    const ws = await hub.workspace('Searched');
    Object.assign(a, { key: ws.key, id: ws.id });
    const fields = [{ key: 'n', type: 'integer' }];
    a.forms = [
      await made(a.key, '/forms', { title: 'One', fields }),
      await made(a.key, '/forms', { title: 'Two', fields }),
    ];
    a.hooks = [
      await made(a.key, `/forms/${a.forms[0]}/webhooks`, { url: ok.url }),
      // Dies at its first failure (an empty schedule): status_code 500, status dead.
      await made(a.key, `/forms/${a.forms[0]}/webhooks`, {
        url: failing.url,
        retry: { schedule: [] },
      }),
      await made(a.key, `/forms/${a.forms[1]}/webhooks`, { url: ok.url }),
    ];
    for (const [form, n] of [
      [0, 1],
      [1, 2],
      [0, 3],
      [0, 4],
      [1, 5],
    ] as const)
      a.responses.push(await made(a.key, `/forms/${a.forms[form]}/responses`, { data: { n } }));
    const ping = await hub.request({
      method: 'POST',
      url: `/api/v2/webhooks/${a.hooks[0]}/test`,
      key: a.key,
    });
    expect(ping.statusCode).toBe(202);

    const other = await hub.workspace('Other');
    b.key = other.key;
    b.form = await made(b.key, '/forms', { title: 'B', fields });
    b.hook = await made(b.key, `/forms/${b.form}/webhooks`, { url: ok.url });
    b.response = await made(b.key, `/forms/${b.form}/responses`, { data: { n: 1 } });
    // 3 x 2 + 2 + 1 ping in A, 1 in B: every one finished.
    await eventually(async () => {
      const { rows } = await hub.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM deliveries WHERE status IN ('succeeded', 'dead')`,
      );
      return Number(rows[0]!.n) === 10 || undefined;
    });
  });
  afterAll(async () => {
    await hub?.close();
    await ok?.close();
    await failing?.close();
  });

  const search = async (key: string, query: string) => {
    const res = await hub.request({ method: 'GET', url: `/api/v2/deliveries?${query}`, key });
    return res;
  };

  /** Every page of a search, following next_cursor. */
  const all = async (key: string, query: string, limit = 2) => {
    const seen: Found[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res = await search(
        key,
        `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { data: Found[]; next_cursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(limit);
      seen.push(...body.data);
      cursor = body.next_cursor;
      if (!cursor) return seen;
    }
    throw new Error('more than 50 pages');
  };

  /** The oracle: the ids SQL finds over the whole table (with its stored events), newest first. */
  const oracle = async (where: string, params: unknown[] = []) => {
    const { rows } = await hub.db.query<{ id: string }>(
      `SELECT d.id FROM deliveries d JOIN delivery_payloads p ON p.delivery_id = d.id
       WHERE d.workspace_id = $1 AND ${where}
       ORDER BY d.created_at DESC, d.id DESC`,
      [a.id, ...params],
    );
    return rows.map((r) => r.id);
  };

  it('finds by each filter alone, paging through every match', async () => {
    const cases: [string, string, unknown[]][] = [
      ['', 'true', []],
      [`webhook_id=${a.hooks[0]}`, 'd.integration_id = $2', [a.hooks[0]]],
      [`integration_id=${a.hooks[1]}`, 'd.integration_id = $2', [a.hooks[1]]],
      [`form_id=${a.forms[1]}`, `p.payload->'form'->>'id' = $2`, [a.forms[1]]],
      ['status=dead', `d.status = 'dead'`, []],
      ['status=succeeded', `d.status = 'succeeded'`, []],
      ['event=ping', `d.event_type = 'ping'`, []],
      ['event=response.submitted', `d.event_type = 'response.submitted'`, []],
      [`response_id=${a.responses[2]}`, `p.payload->'response'->>'id' = $2`, [a.responses[2]]],
      [
        'status_code=500',
        `d.id IN (SELECT delivery_id FROM delivery_attempts WHERE status_code = 500)`,
        [],
      ],
      [
        'status_code=200',
        `d.id IN (SELECT delivery_id FROM delivery_attempts WHERE status_code = 200)`,
        [],
      ],
    ];
    for (const [query, where, params] of cases) {
      const expected = await oracle(where, params);
      expect(expected.length, query).toBeGreaterThan(0);
      const found = await all(a.key, query);
      expect(
        found.map((d) => d.id),
        query,
      ).toEqual(expected);
    }
    expect(await oracle('true')).toHaveLength(9);
    // Each item is the delivery shape of the per-webhook listing, attempts included.
    const [one] = (await all(a.key, `response_id=${a.responses[0]}&webhook_id=${a.hooks[0]}`))!;
    const listed = await hub.request({
      method: 'GET',
      url: `/api/v2/deliveries/${one!.id}`,
      key: a.key,
    });
    expect(one).toEqual(listed.json());
    expect(one!.attempts).toHaveLength(1);
  });

  it('combines filters, and since/until bound the creation time', async () => {
    const cases: [string, string, unknown[]][] = [
      [
        `form_id=${a.forms[0]}&status=succeeded`,
        `p.payload->'form'->>'id' = $2 AND d.status = 'succeeded'`,
        [a.forms[0]],
      ],
      [
        `webhook_id=${a.hooks[1]}&status_code=500&event=response.submitted`,
        `d.integration_id = $2 AND d.event_type = 'response.submitted'`,
        [a.hooks[1]],
      ],
      [
        `response_id=${a.responses[0]}&status=dead`,
        `p.payload->'response'->>'id' = $2 AND d.status = 'dead'`,
        [a.responses[0]],
      ],
      [`form_id=${a.forms[1]}&status=dead`, 'false', []],
    ];
    for (const [query, where, params] of cases) {
      const found = await all(a.key, query, 1);
      expect(
        found.map((d) => d.id),
        query,
      ).toEqual(await oracle(where, params));
    }
    const { rows } = await hub.db.query<{ created_at: Date }>(
      `SELECT created_at FROM deliveries WHERE workspace_id = $1 ORDER BY created_at, id`,
      [a.id],
    );
    const since = rows[3]!.created_at.toISOString();
    const until = rows[6]!.created_at.toISOString();
    const found = await all(a.key, `since=${since}&until=${until}`);
    expect(found.map((d) => d.id)).toEqual(
      await oracle('d.created_at >= $2 AND d.created_at <= $3', [since, until]),
    );
    expect(found.length).toBeGreaterThanOrEqual(4);
  });

  it("keeps workspaces apart: another workspace's hook is a 404, its form or response matches nothing", async () => {
    const mine = await all(b.key, '');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.webhook_id).toBe(b.hook);
    expect((await search(b.key, `webhook_id=${a.hooks[0]}`)).statusCode).toBe(404);
    expect((await search(b.key, `integration_id=${a.hooks[0]}`)).statusCode).toBe(404);
    expect((await search(a.key, `webhook_id=${b.hook}`)).statusCode).toBe(404);
    expect(await all(b.key, `form_id=${a.forms[0]}`)).toEqual([]);
    expect(await all(b.key, `response_id=${a.responses[0]}`)).toEqual([]);
    expect(await all(a.key, `response_id=${b.response}`)).toEqual([]);
  });

  it('answers 400 naming a bad parameter', async () => {
    for (const [query, field] of [
      ['status=lost', 'status'],
      ['status_code=abc', 'status_code'],
      ['status_code=1000', 'status_code'],
      ['since=yesterday', 'since'],
      ['until=2026-13-01', 'until'],
      ['form_id=nope', 'form_id'],
      ['response_id=1', 'response_id'],
      ['limit=0', 'limit'],
      ['cursor=garbage', 'cursor'],
    ]) {
      const res = await search(a.key, query!);
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).toMatchObject({ error: { details: [{ field }] } });
    }
    expect((await search(a.key, 'webhook_id=not-a-uuid')).statusCode).toBe(404);
  });
});
