/**
 * Scoped keys (DESIGN.md section 4b): keys made without scopes keep all, the list of keys
 * shows each key's limits, a key cannot make (or revoke) a key with more than it has, and a
 * key limited to forms answers 404 for the others on every kind of route and sees only its
 * forms in listings (workspace-wide integrations included: they reach every form).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/common/index.ts';
import { expectError } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import {
  ALL_SCOPES,
  call,
  scopedKey,
  seedObjects,
  type SeededIds,
} from '../support/scoped-world.ts';

const TARGET = 'http://127.0.0.1:9/scoped';

let hub: TestHub;
let owner: string;
let mine: SeededIds;
let theirs: SeededIds;
let wideWebhook: string;
let limited: string;

beforeAll(async () => {
  hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
  owner = (await hub.workspace('Scoped keys')).key;
  mine = await seedObjects(hub, owner, TARGET);
  theirs = await seedObjects(hub, owner, TARGET);
  wideWebhook = (await call(hub, owner, 'POST', '/api/v2/webhooks', { url: TARGET })).id as string;
  // Cached for the whole workspace before the limited key asks: it must not be served it.
  await call(hub, owner, 'GET', '/api/v2/forms');
  limited = await scopedKey(hub, owner, { form_ids: [mine.form.toUpperCase()] });
}, 120_000);

afterAll(() => hub?.close());

const send = (key: string, method: string, url: string, payload?: unknown) =>
  hub.request({
    method: method as 'GET',
    url: `/api/v2${url}`,
    key,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const idsOf = (body: unknown) => (body as { data: { id: string }[] }).data.map((x) => x.id);

describe('keys made without scopes', () => {
  it('keep every scope and every form: the column stays NULL, the list shows all', async () => {
    const { rows } = await hub.db.query<{ scopes: string[] | null; form_ids: string[] | null }>(
      "SELECT scopes, form_ids FROM api_keys WHERE name = 'default'",
    );
    expect(rows).toEqual([{ scopes: null, form_ids: null }]);
    const keys = await call(hub, owner, 'GET', '/api/v2/api-keys');
    const byName = (keys.data as { name: string; scopes: string[]; form_ids: unknown }[]).find(
      (k) => k.name === 'default',
    );
    expect(byName).toMatchObject({ scopes: [...ALL_SCOPES], form_ids: null });
    for (const url of ['/forms', '/audit-log', '/integrations', '/scheduled-reports'])
      expect((await send(owner, 'GET', url)).statusCode, url).toBe(200);
  });

  it('shows the limits of a scoped key in the list and on creation', async () => {
    const made = await send(owner, 'POST', '/api-keys', {
      name: 'reader',
      scopes: ['responses:read', 'forms:read', 'forms:read'],
      form_ids: [mine.form],
    });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json()).toMatchObject({
      scopes: ['forms:read', 'responses:read'],
      form_ids: [mine.form],
    });
    const listed = (await call(hub, owner, 'GET', '/api/v2/api-keys')).data as { id: string }[];
    expect(listed.find((k) => k.id === made.json().id)).toMatchObject({
      scopes: ['forms:read', 'responses:read'],
      form_ids: [mine.form],
    });
  });

  it('refuses unknown scopes and forms', async () => {
    expectError(
      await send(owner, 'POST', '/api-keys', { name: 'x', scopes: ['forms:delete'] }),
      422,
      'validation_failed',
    );
    const details = expectError(
      await send(owner, 'POST', '/api-keys', { name: 'x', form_ids: [mine.apiKey, 'nope'] }),
      422,
      'validation_failed',
    );
    expect(details.map((d) => d.field)).toEqual(['form_ids', 'form_ids']);
  });
});

describe('the key cache', () => {
  it('looks a key cached by an older release (no scopes) up again, not as "all"', async () => {
    const reader = await scopedKey(hub, owner, { scopes: ['forms:read'] });
    expect((await send(reader, 'GET', '/forms')).statusCode).toBe(200);
    const hash = hashToken(reader);
    const { rows } = await hub.db.query<{ id: string; workspace_id: string }>(
      'SELECT id, workspace_id FROM api_keys WHERE key_hash = $1',
      [hash],
    );
    await hub.services.caches.named('api_keys').set(hash, rows[0]!);
    const details = expectError(await send(reader, 'DELETE', `/forms/${theirs.form}`), 403);
    expect(details).toEqual([{ field: 'scope', message: 'forms:write' }]);
  });
});

describe("the console's sign-in check (GET /forms?limit=1)", () => {
  it('passes with forms:read alone and is refused, naming it, without', async () => {
    const reader = await scopedKey(hub, owner, { scopes: ['forms:read'] });
    expect((await send(reader, 'GET', '/forms?limit=1')).statusCode).toBe(200);
    const others = await scopedKey(hub, owner, {
      scopes: ALL_SCOPES.filter((scope) => scope !== 'forms:read'),
    });
    const details = expectError(await send(others, 'GET', '/forms?limit=1'), 403, 'forbidden');
    expect(details).toEqual([{ field: 'scope', message: 'forms:read' }]);
  });
});

describe('no key gives more than it has', () => {
  it('refuses a key with a scope the caller lacks, naming it', async () => {
    const keyMaker = await scopedKey(hub, owner, { scopes: ['keys:write', 'forms:read'] });
    const all = expectError(await send(keyMaker, 'POST', '/api-keys', { name: 'all' }), 403);
    expect(all).toEqual([{ field: 'scope', message: 'forms:write' }]);
    const more = expectError(
      await send(keyMaker, 'POST', '/api-keys', { name: 'x', scopes: ['responses:read'] }),
      403,
      'forbidden',
    );
    expect(more).toEqual([{ field: 'scope', message: 'responses:read' }]);
    const fewer = await send(keyMaker, 'POST', '/api-keys', { name: 'x', scopes: ['forms:read'] });
    expect(fewer.statusCode, fewer.body).toBe(201);
    // Nor can it revoke a key that has more than it has (the owner's, say).
    const ownerId = (
      (await call(hub, owner, 'GET', '/api/v2/api-keys')).data as { id: string; name: string }[]
    ).find((k) => k.name === 'default')!.id;
    expectError(await send(keyMaker, 'DELETE', `/api-keys/${ownerId}`), 403, 'forbidden');
    expect((await send(keyMaker, 'DELETE', `/api-keys/${fewer.json().id}`)).statusCode).toBe(204);
  });

  it('refuses a key reaching forms the caller cannot reach', async () => {
    const every = expectError(await send(limited, 'POST', '/api-keys', { name: 'x' }), 403);
    expect(every).toEqual([{ field: 'form_ids', message: 'every form' }]);
    expectError(
      await send(limited, 'POST', '/api-keys', { name: 'x', form_ids: [theirs.form] }),
      403,
      'forbidden',
    );
    const same = await send(limited, 'POST', '/api-keys', { name: 'x', form_ids: [mine.form] });
    expect(same.statusCode, same.body).toBe(201);
  });
});

describe('a key limited to forms', () => {
  it('reaches its form on every kind of route', async () => {
    const urls = [
      `/forms/${mine.form}`,
      `/forms/${mine.form}/responses`,
      `/responses/${mine.response}`,
      `/webhooks/${mine.webhook}`,
      `/webhooks/${mine.webhook}/deliveries`,
      `/integrations/${mine.integration}`,
      `/deliveries/${mine.delivery}`,
      `/exports/${mine.export}`,
      `/scheduled-reports/${mine.report}`,
      `/analytics/forms/${mine.form}/metrics`,
      `/analytics/predict/next-week?form_id=${mine.form}`,
      `/zapier/forms/${mine.form}/fields`,
      `/integrations?form_id=${mine.form}`,
    ];
    for (const url of urls) expect((await send(limited, 'GET', url)).statusCode, url).toBe(200);
  });

  it('answers 404 for the other forms and what belongs to them', async () => {
    const cases: [string, string, unknown?][] = [
      ['GET', `/forms/${theirs.form}`],
      ['PATCH', `/forms/${theirs.form}`, { title: 'x' }],
      ['GET', `/forms/${theirs.form}/responses`],
      ['POST', `/forms/${theirs.form}/responses`, { data: { name: 'x' } }],
      ['GET', `/forms/${theirs.form}/export?format=csv`],
      ['GET', `/forms/${theirs.form}/webhooks`],
      [
        'POST',
        `/forms/${theirs.form}/integrations`,
        { connector: 'webhook', config: { url: TARGET } },
      ],
      ['GET', `/responses/${theirs.response}`],
      ['DELETE', `/responses/${theirs.response}`],
      ['GET', `/webhooks/${theirs.webhook}`],
      ['PATCH', `/webhooks/${theirs.webhook}`, { active: false }],
      ['GET', `/webhooks/${theirs.webhook}/deliveries`],
      ['POST', `/webhooks/${theirs.webhook}/test`],
      ['GET', `/integrations/${theirs.integration}`],
      ['GET', `/deliveries/${theirs.delivery}`],
      ['POST', `/deliveries/${theirs.delivery}/replay`],
      ['GET', `/exports/${theirs.export}`],
      ['GET', `/exports/${theirs.export}/download`],
      ['GET', `/scheduled-reports/${theirs.report}`],
      ['GET', `/scheduled-reports/${theirs.report}/runs`],
      ['GET', `/analytics/forms/${theirs.form}/metrics`],
      ['GET', `/analytics/predict/next-week?form_id=${theirs.form}`],
      ['GET', `/zapier/forms/${theirs.form}/fields`],
      ['GET', `/zapier/forms/${theirs.form}/sample`],
      ['DELETE', `/zapier/hooks/${theirs.zapierHook}`],
      ['POST', '/webhooks', { url: TARGET, form_id: theirs.form }],
      [
        'POST',
        '/zapier/hooks',
        { target_url: TARGET, event: 'response.submitted', form_id: theirs.form },
      ],
      ['GET', `/integrations?form_id=${theirs.form}`],
      // Workspace-wide integrations reach every form: not this key's.
      ['GET', `/webhooks/${wideWebhook}`],
      ['GET', `/webhooks/${wideWebhook}/deliveries`],
    ];
    for (const [method, url, payload] of cases) {
      const res = await send(limited, method, url, payload);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(404);
      expectError(res, 404, 'not_found');
    }
    // Nothing was changed by the refused writes.
    expect((await send(owner, 'GET', `/responses/${theirs.response}`)).statusCode).toBe(200);
  });

  it('refuses with 403 what reaches every form', async () => {
    const cases: [string, string, unknown?][] = [
      ['POST', '/forms', { title: 'x', fields: [{ key: 'a', type: 'text' }] }],
      ['POST', '/webhooks', { url: TARGET }],
      ['GET', '/analytics/predict/next-week'],
      ['GET', '/audit-log'],
      ['PATCH', '/workspace', { name: 'x' }],
    ];
    for (const [method, url, payload] of cases) {
      const details = expectError(await send(limited, method, url, payload), 403, 'forbidden');
      expect(details, `${method} ${url}`).toEqual([{ field: 'form_ids', message: 'limited' }]);
    }
  });

  it('lists only its forms and what belongs to them', async () => {
    // GET /forms is cached per workspace: the owner's answer must not be served to this key.
    // A write's second invalidation (500 ms after it, src/cache/tiered-caches.ts) starts a new
    // generation, which can fall between two GETs on a slow machine: the next GET then hits.
    await send(owner, 'GET', '/forms');
    let cachedAll = await send(owner, 'GET', '/forms');
    for (let i = 0; i < 5 && cachedAll.headers['x-cache'] !== 'hit'; i++)
      cachedAll = await send(owner, 'GET', '/forms');
    expect(cachedAll.headers['x-cache']).toBe('hit');
    expect(idsOf(cachedAll.json()).sort()).toEqual([mine.form, theirs.form].sort());
    expect(idsOf((await send(limited, 'GET', '/forms')).json())).toEqual([mine.form]);
    // The seeded integration uses the webhook connector: it is listed with the webhooks.
    expect(idsOf((await send(limited, 'GET', '/webhooks')).json()).sort()).toEqual(
      [mine.webhook, mine.integration].sort(),
    );
    expect(idsOf((await send(owner, 'GET', '/webhooks')).json())).toContain(wideWebhook);
    expect(idsOf((await send(limited, 'GET', '/integrations')).json()).sort()).toEqual(
      [mine.webhook, mine.integration, mine.zapierHook].sort(),
    );
    expect(idsOf((await send(limited, 'GET', '/scheduled-reports')).json())).toEqual([mine.report]);
    const zapierForms = (await send(limited, 'GET', '/zapier/forms')).json() as { id: string }[];
    expect(zapierForms.map((f) => f.id)).toEqual([mine.form]);
  });
});
