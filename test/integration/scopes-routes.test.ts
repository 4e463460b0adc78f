/**
 * Scoped keys, route by route (DESIGN.md section 4b): every route of the app declares what
 * it needs of a key (`config: scoped(scope, form)`), a key with exactly that scope gets
 * past auth and a key with every other scope gets 403 naming it. The routes are collected
 * from the app itself (fastify `onRoute`), so a new route is in this table the day it lands.
 */
import type { AddressInfo } from 'node:net';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { ALL_SCOPES, scopedKey, seedObjects, type SeededIds } from '../support/scoped-world.ts';

const DECLARED = new Set<string>([...ALL_SCOPES, 'any', 'public', 'admin']);
const FORM_KINDS = new Set([
  'param',
  'response',
  'integration',
  'delivery',
  'export',
  'report',
  'body',
  'query',
  'list',
  'workspace',
  'none',
]);
const TARGET = 'http://127.0.0.1:9/scoped';

interface CollectedRoute {
  method: string;
  url: string;
  scope: string | undefined;
  form: string | undefined;
}

/** The `:id` of a path names an object of the kind of the segment before it. */
const KIND_BY_SEGMENT: Record<string, keyof SeededIds> = {
  forms: 'form',
  responses: 'response',
  exports: 'export',
  'scheduled-reports': 'report',
  webhooks: 'webhook',
  integrations: 'integration',
  deliveries: 'delivery',
  hooks: 'zapierHook',
  'api-keys': 'apiKey',
  'notification-channels': 'notificationChannel',
  erasures: 'erasure',
};

/** A valid body for each route that takes one (placeholders: `@form`, `@url`). */
const BODIES: Record<string, unknown> = {
  'POST /api/v2/api-keys': { name: 'made by a scoped key', scopes: ['keys:write'] },
  'PATCH /api/v2/workspace': { name: 'renamed' },
  'POST /api/v2/forms': { title: 'New', fields: [{ key: 'name', type: 'text' }] },
  'PATCH /api/v2/forms/:id': { title: 'Renamed' },
  'POST /api/v2/forms/:id/responses': { data: { name: 'Grace', age: 40 } },
  'PATCH /api/v2/responses/:id': { data: { name: 'patched' } },
  'POST /api/v2/forms/:id/responses/import': [
    { data: { name: 'old' }, submitted_at: '2025-01-01T00:00:00Z' },
  ],
  'POST /api/v2/forms/:id/exports': { format: 'csv' },
  'POST /api/v2/scheduled-reports': {
    form_id: '@form',
    timezone: 'UTC',
    recipients: ['b@example.com'],
    format: 'csv',
    frequency: 'weekly',
  },
  'POST /api/v2/analytics/forms/:id/query': { aggregate: 'count' },
  'POST /api/v2/forms/:id/webhooks': { url: '@url' },
  'POST /api/v2/webhooks': { url: '@url', form_id: '@form' },
  'PATCH /api/v2/webhooks/:id': { active: true },
  'POST /api/v2/forms/:id/integrations': { connector: 'webhook', config: { url: '@url' } },
  'POST /api/v2/integrations': { connector: 'webhook', config: { url: '@url' }, form_id: '@form' },
  'PATCH /api/v2/integrations/:id': { active: true },
  'POST /api/v2/webhooks/:id/replay': { since: '2025-01-01T00:00:00Z' },
  'POST /api/v2/integrations/:id/replay': { since: '2025-01-01T00:00:00Z' },
  'POST /api/v2/notification-channels': { kind: 'webhook', target: '@url' },
  'POST /api/v2/erasures': { form_id: '@form', match: { 'data.name': { $eq: 'nobody' } } },
  'POST /api/v2/zapier/hooks': {
    target_url: '@url',
    event: 'response.submitted',
    form_id: '@form',
  },
};

/** Required query parameters. */
const QUERIES: Record<string, string> = {
  'GET /api/v2/forms/:id/export': '?format=csv',
  'GET /api/v2/zapier/forms/:id/responses': '?field=name&value=Ada',
};

let hub: TestHub;
let base: string;
let ids: SeededIds;
const routes: CollectedRoute[] = [];
/** Per scope: a key with exactly it, and a key with every other one. */
const only = new Map<string, string>();
const allBut = new Map<string, string>();

function collect(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  for (const method of methods) {
    if (method === 'HEAD' || !route.url.startsWith('/api/v2/')) continue;
    if (route.url === '/api/v2/openapi.json' || route.url.startsWith('/api/v2/docs')) continue;
    routes.push({
      method,
      url: route.url,
      scope: route.config?.scope,
      form: route.config?.form,
    });
  }
}

const fill = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value)
      .replaceAll('"@form"', JSON.stringify(ids.form))
      .replaceAll('@url', TARGET),
  ) as unknown;

/** The route's path with a real id (a made-up one for DELETE: it still passes auth first). */
function pathOf(route: CollectedRoute): string {
  const segments = route.url.split('/');
  const at = segments.indexOf(':id');
  if (at < 0) return route.url;
  const kind = KIND_BY_SEGMENT[segments[at - 1] ?? ''];
  if (!kind) throw new Error(`${route.method} ${route.url}: no seeded object for its :id`);
  segments[at] = route.method === 'DELETE' ? '0190a000-0000-7000-8000-000000000000' : ids[kind];
  return segments.join('/');
}

/** Sends the route's request; an event stream is read to its headers, then closed. */
async function send(route: CollectedRoute, key: string): Promise<{ status: number; body: string }> {
  const body = BODIES[`${route.method} ${route.url}`];
  const controller = new AbortController();
  const query = QUERIES[`${route.method} ${route.url}`] ?? '';
  const res = await fetch(`${base}${pathOf(route)}${query}`, {
    method: route.method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(fill(body)),
    signal: controller.signal,
  });
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    controller.abort();
    return { status: res.status, body: '' };
  }
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { onRoute: collect });
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
  const ws = await hub.workspace('Scopes');
  ids = await seedObjects(hub, ws.key, TARGET);
  for (const scope of ALL_SCOPES) {
    only.set(scope, await scopedKey(hub, ws.key, { scopes: [scope] }));
    allBut.set(
      scope,
      await scopedKey(hub, ws.key, { scopes: ALL_SCOPES.filter((s) => s !== scope) }),
    );
  }
}, 120_000);

afterAll(async () => {
  await hub?.close();
});

describe('every route declares its scope', () => {
  it('collects the routes of the app', () => {
    expect(routes.length).toBeGreaterThan(60);
  });

  it('has a known scope and form on each /api/v2 route', () => {
    const missing = routes
      .filter((r) => !DECLARED.has(r.scope ?? '') || !FORM_KINDS.has(r.form ?? ''))
      .map(
        (r) =>
          `${r.method} ${r.url} declares scope ${String(r.scope)} and form ${String(r.form)}: ` +
          "add `config: scoped('<scope>', '<form>')` to it (src/http/scopes.ts, docs/api.md \"Scopes\")",
      );
    expect(missing, missing.join('\n')).toEqual([]);
  });
});

describe('the OpenAPI document', () => {
  it("lists each secured route's scope in its security requirement", async () => {
    const doc = (await hub.request({ method: 'GET', url: '/api/v2/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    };
    const wrong: string[] = [];
    for (const route of routes) {
      if (!(ALL_SCOPES as readonly string[]).includes(route.scope ?? '')) continue;
      const path = route.url.replace(/:id/g, '{id}');
      const security = doc.paths[path]?.[route.method.toLowerCase()]?.security;
      // Routes a client may call without a key (a submission) have no requirement.
      if (security && JSON.stringify(security) !== JSON.stringify([{ bearerAuth: [route.scope] }]))
        wrong.push(`${route.method} ${route.url}: ${JSON.stringify(security)}`);
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  });
});

describe('a key with the scope passes, a key without it gets 403 naming it', () => {
  it('checks each route', { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    const scopedRoutes = routes
      .filter((r) => (ALL_SCOPES as readonly string[]).includes(r.scope ?? ''))
      .sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    expect(scopedRoutes.length).toBeGreaterThan(55);
    for (const route of scopedRoutes) {
      const name = `${route.method} ${route.url} (${route.scope})`;
      const refused = await send(route, allBut.get(route.scope!)!);
      const error = refused.status === 403 ? (JSON.parse(refused.body) as { error: unknown }) : {};
      if (refused.status !== 403)
        failures.push(`${name}: without the scope ${refused.status} ${refused.body.slice(0, 200)}`);
      else
        expect(error, name).toEqual({
          error: {
            code: 'forbidden',
            message: `this key lacks the scope ${route.scope}`,
            details: [{ field: 'scope', message: route.scope }],
          },
        });
      const allowed = await send(route, only.get(route.scope!)!);
      if (allowed.status === 403 || allowed.status === 401 || allowed.status >= 500)
        failures.push(`${name}: with the scope ${allowed.status} ${allowed.body.slice(0, 200)}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('lets any key call the `any` routes, whatever its scopes', async () => {
    const anyRoutes = routes.filter((r) => r.scope === 'any');
    expect(anyRoutes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /api/v2/event-types',
      'GET /api/v2/workspace',
      'GET /api/v2/zapier/me',
    ]);
    for (const route of anyRoutes) {
      expect((await send(route, only.get('exports')!)).status, route.url).toBe(200);
    }
  });
});
