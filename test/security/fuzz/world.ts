import { randomBytes } from 'node:crypto';
import type { TestHub } from '../../support/hub.ts';
import { eventually } from '../../support/receiver.ts';
import type { ResourceKind } from './openapi.ts';

/** Who sends a request: no key, workspace A's key, B's key, the admin key or a made-up key. */
export type Auth = 'none' | 'A' | 'B' | 'admin' | 'bogus';

/** One seeded workspace: its key, one real object of every kind, and strings only it may see. */
export interface SeededWorkspace {
  name: 'A' | 'B';
  key: string;
  ids: Record<ResourceKind, string>;
  /** A resume token of a partial response of this workspace's form. */
  resumeToken: string;
  /** Stored in its responses, metadata and targets: no other sender may ever read it. */
  canary: string;
}

/** Both workspaces, every id ever seeded (objects are re-seeded after a fuzzed DELETE) and the secrets no answer may hold. */
export interface World {
  A: SeededWorkspace;
  B: SeededWorkspace;
  owner: Map<string, 'A' | 'B'>;
  /** Webhook secrets and custom header values: write-only, never in any answer. */
  secrets: string[];
  adminKey: string;
}

export const FUZZ_FIELDS = [
  { key: 'name', type: 'text', label: 'Name', max_length: 200 },
  { key: 'email', type: 'email' },
  { key: 'age', type: 'integer', min: 0, max: 150 },
  { key: 'score', type: 'number' },
  { key: 'likes', type: 'multiselect', options: ['a', 'b', 'c'] },
  { key: 'color', type: 'select', options: ['red', 'blue'] },
  { key: 'ok', type: 'boolean' },
  { key: 'born', type: 'date' },
  { key: 'seen', type: 'datetime' },
  { key: 'stars', type: 'rating', max: 5 },
  { key: 'code', type: 'text', pattern: '^[A-Z]{2}[0-9]{2}$' },
];

/** A valid answer to the fuzz form, carrying `canary`. */
export function validData(canary = 'fuzz'): Record<string, unknown> {
  return {
    name: canary,
    email: 'x@example.com',
    age: 30,
    score: 1.5,
    likes: ['a'],
    color: 'red',
    ok: true,
    born: '1990-01-01',
    seen: '2026-01-01T10:00:00Z',
    stars: 4,
    code: 'AB12',
  };
}

/** Creates workspaces A and B, each with one object of every kind, targets at `receiverUrl`. */
export async function seedWorld(
  hub: TestHub,
  receiverUrl: string,
  adminKey: string,
): Promise<World> {
  const world: World = { owner: new Map(), secrets: [], adminKey } as unknown as World;
  for (const name of ['A', 'B'] as const) {
    const ws = await hub.workspace(`Fuzz ${name}`);
    const canary = `canary${name}${randomBytes(6).toString('hex')}`;
    world[name] = {
      name,
      key: ws.key,
      canary,
      resumeToken: '',
      ids: {} as Record<ResourceKind, string>,
    };
    await seedObjects(hub, world, world[name], receiverUrl);
  }
  return world;
}

/** (Re)creates one object of every kind in `ws`, e.g. after the fuzzer deleted one. */
export async function seedObjects(
  hub: TestHub,
  world: World,
  ws: SeededWorkspace,
  receiverUrl: string,
): Promise<void> {
  const call = async (
    method: 'POST' | 'GET',
    url: string,
    payload?: object,
    key: string | undefined = ws.key,
  ) => {
    const res = await hub.request({ method, url, key, ...(payload ? { payload } : {}) });
    if (res.statusCode >= 300)
      throw new Error(`fuzz seed: ${method} ${url} answered ${res.statusCode} ${res.body}`);
    const body = res.json() as Record<string, unknown>;
    if (typeof body.id === 'string') world.owner.set(body.id, ws.name);
    return body;
  };
  const target = `${receiverUrl}?c=${ws.canary}`;
  const ids = ws.ids;
  ids.apiKey = (await call('POST', '/api/v2/api-keys', { name: `spare ${ws.canary}` }))
    .id as string;
  const form = await call('POST', '/api/v2/forms', {
    title: `Fuzz form ${ws.name}`,
    status: 'published',
    fields: FUZZ_FIELDS,
  });
  ids.form = form.id as string;
  const responses = `/api/v2/forms/${ids.form}/responses`;
  ids.response = (
    await call(
      'POST',
      responses,
      { data: validData(ws.canary), metadata: { c: ws.canary } },
      undefined,
    )
  ).id as string;
  const partial = await call(
    'POST',
    responses,
    { data: { name: ws.canary }, completed: false },
    undefined,
  );
  ws.resumeToken = partial.resume_token as string;
  const secret = `whsec${randomBytes(8).toString('hex')}`;
  const header = `hdr${randomBytes(8).toString('hex')}`;
  world.secrets.push(secret, header);
  const webhook = { url: target, secret, headers: { 'X-Fuzz': header } };
  ids.webhook = (
    await call('POST', `/api/v2/forms/${ids.form}/webhooks`, webhook).catch(() =>
      call('POST', `/api/v2/forms/${ids.form}/webhooks`, {
        url: target,
        headers: { 'X-Fuzz': header },
      }),
    )
  ).id as string;
  ids.integration = (
    await call('POST', `/api/v2/forms/${ids.form}/integrations`, {
      connector: 'webhook',
      config: { url: target },
    })
  ).id as string;
  ids.delivery = (await call('POST', `/api/v2/webhooks/${ids.webhook}/test`)).id as string;
  ids.export = (await call('POST', `/api/v2/forms/${ids.form}/exports`, { format: 'csv' }))
    .id as string;
  // Finished before the next seeding: a workspace may run 3 export jobs at a time (429 past
  // that), and on an export thread a job outlives the request that started it.
  await eventually(async () => {
    const job = await call('GET', `/api/v2/exports/${ids.export}`);
    return job.status === 'succeeded' || job.status === 'failed' ? true : undefined;
  }, 60_000);
  const report = {
    form_id: ids.form,
    timezone: 'UTC',
    recipients: ['fuzz@example.com'],
    format: 'pdf',
    frequency: 'daily',
  };
  ids.report = (await call('POST', '/api/v2/scheduled-reports', report)).id as string;
  // A match no fuzz response meets (ages stop at 150): the erasure leaves the world as it is.
  const erasure = { form_id: ids.form, match: { 'data.age': { $gt: 150 } } };
  ids.erasure = (await call('POST', '/api/v2/erasures', erasure)).id as string;
  const hook = { target_url: `${target}&z=1`, event: 'response.submitted', form_id: ids.form };
  ids.zapierHook = (await call('POST', '/api/v2/zapier/hooks', hook)).id as string;
  const slackToken = `xoxb-${randomBytes(8).toString('hex')}`;
  world.secrets.push(slackToken);
  const channel = { kind: 'slack', target: '#fuzz', config: { token: slackToken } };
  ids.notificationChannel = (await call('POST', '/api/v2/notification-channels', channel))
    .id as string;
}
