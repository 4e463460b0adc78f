import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

interface Entry {
  id: string;
  at: string;
  key: { id: string; name: string | null };
  address: string;
  action: string;
  resource: { type: string; id: string | null };
}

describe('audit log (DESIGN.md section 4b)', () => {
  let hub: TestHub;
  let key: string;
  let keyId: string;
  let other: string;
  const call = async (method: string, url: string, payload?: object, as = key) => {
    const res = await hub.request({
      method: method as 'GET',
      url: `/api/v2${url}`,
      key: as,
      ...(payload ? { payload } : {}),
    });
    return {
      status: res.statusCode,
      body: res.body ? (res.json() as Record<string, unknown>) : {},
    };
  };
  const entries = async (query = '', as = key) =>
    (await call('GET', `/audit-log${query}`, undefined, as)).body as {
      data: Entry[];
      next_cursor: string | null;
    };

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    const first = await hub.workspace('Audited');
    const made = await call('POST', '/api-keys', { name: 'ci deploy' }, first.key);
    key = made.body.key as string;
    keyId = made.body.id as string;
    other = (await hub.workspace('Other')).key;
  });
  afterAll(() => hub?.close());

  it('records who changed what, when and from where, and never a secret', async () => {
    const startedAt = Date.now();
    const form = await call('POST', '/forms', {
      title: 'Audited form',
      fields: [{ key: 'name', type: 'text' }],
    });
    const formId = form.body.id as string;
    expect((await call('PATCH', `/forms/${formId}`, { title: 'Renamed' })).status).toBe(200);
    const hook = await call('POST', `/forms/${formId}/webhooks`, { url: 'http://127.0.0.1:9/h' });
    const hookId = hook.body.id as string;
    const rotated = await call('POST', `/webhooks/${hookId}/rotate-secret`);
    const secrets = [hook.body.secret, rotated.body.secret] as string[];
    expect(secrets.every((s) => s.startsWith('whsec_'))).toBe(true);
    expect(
      (await call('PATCH', `/webhooks/${hookId}`, { headers: { 'X-Token': 'hidden-value' } }))
        .status,
    ).toBe(200);
    // Not audited: a submission, a read, an analytics query sent as POST, a refused change.
    expect((await call('POST', `/forms/${formId}/responses`, { data: { name: 'x' } })).status).toBe(
      201,
    );
    expect((await call('GET', `/forms/${formId}`)).status).toBe(200);
    expect((await call('POST', '/forms', { title: '' })).status).toBe(422);
    expect((await call('DELETE', `/webhooks/${hookId}`)).status).toBe(204);
    const spare = await call('POST', '/api-keys', { name: 'spare' });
    expect((await call('DELETE', `/api-keys/${spare.body.id as string}`)).status).toBe(204);

    const page = await entries();
    expect(page.data.map((e) => [e.action, e.resource.type, e.resource.id])).toEqual([
      ['api_key.deleted', 'api_key', spare.body.id],
      ['api_key.created', 'api_key', spare.body.id],
      ['webhook.deleted', 'webhook', hookId],
      ['webhook.updated', 'webhook', hookId],
      ['webhook.rotate_secret', 'webhook', hookId],
      ['webhook.created', 'webhook', hookId],
      ['form.updated', 'form', formId],
      ['form.created', 'form', formId],
      ['api_key.created', 'api_key', keyId], // made with the workspace's first key
    ]);
    expect(page.data.at(-1)?.key.id).not.toBe(keyId);
    for (const entry of page.data.slice(0, -1)) {
      expect(entry.key).toEqual({ id: keyId, name: 'ci deploy' });
      expect(entry.address).toBe('127.0.0.1');
      expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(startedAt - 1000);
    }
    const text = JSON.stringify(page);
    for (const secret of [...secrets, 'hidden-value', key]) expect(text).not.toContain(secret);
  });

  it('filters by action and time, pages with a cursor, and shows nothing to another workspace', async () => {
    const all = await entries();
    expect(all.data.length).toBe(9);
    const created = await entries('?action=webhook.created');
    expect(created.data.map((e) => e.action)).toEqual(['webhook.created']);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await entries(`?since=${encodeURIComponent(future)}`)).data).toEqual([]);
    expect((await entries(`?until=${encodeURIComponent(future)}`)).data).toHaveLength(
      all.data.length,
    );

    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof entries>> = await entries(
        `?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(walked).toEqual(all.data.map((e) => e.id));

    expect((await entries('', other)).data).toEqual([]);
    expect((await call('GET', '/audit-log?since=yesterday')).status).toBe(400);
  });
});
