import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Behaviour, type Receiver } from '../support/receiver.ts';

const ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '100ms,200ms',
  WEBHOOK_TIMEOUT_MS: '1000',
};

describe('Zapier REST hooks', () => {
  let hub: TestHub;
  let key: string;
  let workspaceId: string;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    hub = await startHub(ENV, { worker: true });
    const ws = await hub.workspace('Zap workspace');
    key = ws.key;
    workspaceId = ws.id;
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  async function receiver(behaviour?: Behaviour): Promise<Receiver> {
    const r = await startReceiver(behaviour);
    receivers.push(r);
    return r;
  }

  async function newForm(title: string, k = key): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: k,
      payload: {
        title,
        fields: [
          { key: 'name', type: 'text' },
          { key: 'email', type: 'email' },
          { key: 'tags', type: 'multiselect', options: ['a', 'b', 'c'] },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  }

  async function subscribe(formId: string, targetUrl: string): Promise<string> {
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/zapier/hooks',
      key,
      payload: { target_url: targetUrl, event: 'response.submitted', form_id: formId },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { id: string };
    expect(Object.keys(body)).toEqual(['id']);
    return body.id;
  }

  async function submit(formId: string, data: Record<string, unknown>) {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; form_id: string; submitted_at: string };
  }

  it('GET /zapier/me answers the workspace (and 401 without a key)', async () => {
    const res = await hub.request({ method: 'GET', url: '/api/v2/zapier/me', key });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ workspace: { id: workspaceId, name: 'Zap workspace' } });
    expectError(
      await hub.request({ method: 'GET', url: '/api/v2/zapier/me' }),
      401,
      'unauthorized',
    );
    expectError(
      await hub.request({ method: 'GET', url: '/api/v2/zapier/me', key: 'nope' }),
      401,
      'unauthorized',
    );
  });

  it('GET /zapier/forms lists [{id, title}] of this workspace only', async () => {
    const a = await newForm('Dropdown A');
    const b = await newForm('Dropdown B');
    const other = await hub.workspace('Elsewhere');
    const foreign = await newForm('Foreign', other.key);
    const res = await hub.request({ method: 'GET', url: '/api/v2/zapier/forms', key });
    expect(res.statusCode, res.body).toBe(200);
    const forms = res.json() as { id: string; title: string }[];
    expect(Array.isArray(forms)).toBe(true);
    for (const form of forms) expect(Object.keys(form).sort()).toEqual(['id', 'title']);
    expect(forms).toEqual(
      expect.arrayContaining([
        { id: a, title: 'Dropdown A' },
        { id: b, title: 'Dropdown B' },
      ]),
    );
    expect(forms.map((f) => f.id)).not.toContain(foreign);
  });

  it('delivers each submission as one flat object, in the shape of the sample', async () => {
    const target = await receiver();
    const formId = await newForm('Flat');
    const hookId = await subscribe(formId, target.url);
    expect(hookId).toMatch(/^[0-9a-f-]{36}$/);
    const response = await submit(formId, {
      name: 'Ada',
      email: 'ada@example.com',
      tags: ['a', 'c'],
    });
    const [request] = await target.waitFor(1);
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(request!.body) as Record<string, unknown>;
    // id, form_id, submitted_at first; then the data keys (JSONB keeps no key order among them).
    expect(Object.keys(body).slice(0, 3)).toEqual(['id', 'form_id', 'submitted_at']);
    expect(Object.keys(body).slice(3).sort()).toEqual(['email', 'name', 'tags']);
    expect(body).toEqual({
      id: response.id,
      form_id: formId,
      submitted_at: response.submitted_at,
      name: 'Ada',
      email: 'ada@example.com',
      tags: ['a', 'c'],
    });

    const sample = await hub.request({
      method: 'GET',
      url: `/api/v2/zapier/forms/${formId}/sample`,
      key,
    });
    expect(sample.statusCode, sample.body).toBe(200);
    const rows = sample.json() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).slice(0, 3)).toEqual(['id', 'form_id', 'submitted_at']);
    expect(rows[0]).toEqual(body);
  });

  it('the sample lists recent responses newest first, flat', async () => {
    const formId = await newForm('Sampled');
    const first = await submit(formId, { name: 'first', tags: ['b'] });
    const second = await submit(formId, { name: 'second' });
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/zapier/forms/${formId}/sample`,
      key,
    });
    const rows = res.json() as Record<string, unknown>[];
    expect(rows.map((r) => r.id)).toEqual([second.id, first.id]);
    expect(rows[1]).toEqual({
      id: first.id,
      form_id: formId,
      submitted_at: first.submitted_at,
      name: 'first',
      tags: ['b'],
    });
  });

  it('a 410 from the target unsubscribes the hook', async () => {
    const gone = await receiver(() => ({ status: 410, body: 'zap off' }));
    const sentinel = await receiver();
    const formId = await newForm('Unsubscribed');
    const hookId = await subscribe(formId, gone.url);
    await subscribe(formId, sentinel.url);
    await submit(formId, { name: 'one' });
    await gone.waitFor(1);
    // The hook is gone: unsubscribing it answers 404.
    await eventually(async () => {
      const res = await hub.request({
        method: 'DELETE',
        url: `/api/v2/zapier/hooks/${hookId}`,
        key,
      });
      return res.statusCode === 404 ? res : undefined;
    });
    expectError(
      await hub.request({ method: 'DELETE', url: `/api/v2/zapier/hooks/${hookId}`, key }),
      404,
      'not_found',
    );
    await submit(formId, { name: 'two' });
    await sentinel.waitFor(2);
    expect(gone.requests).toHaveLength(1);
  });

  it('DELETE /zapier/hooks/:id unsubscribes (200); no more requests arrive', async () => {
    const target = await receiver();
    const sentinel = await receiver();
    const formId = await newForm('Deleted');
    const hookId = await subscribe(formId, target.url);
    await subscribe(formId, sentinel.url);
    await submit(formId, { name: 'before' });
    await target.waitFor(1);
    const res = await hub.request({ method: 'DELETE', url: `/api/v2/zapier/hooks/${hookId}`, key });
    expect(res.statusCode, res.body).toBe(200);
    expectError(
      await hub.request({ method: 'DELETE', url: `/api/v2/zapier/hooks/${hookId}`, key }),
      404,
      'not_found',
    );
    await submit(formId, { name: 'after' });
    const seen = await sentinel.waitFor(2);
    expect(seen.map((q) => JSON.parse(q.body).name).sort()).toEqual(['after', 'before']);
    expect(target.requests).toHaveLength(1);
    expect(JSON.parse(target.requests[0]!.body).name).toBe('before');
  });

  it('a hook subscribes to response.updated too; another event or a bad condition is a 422 naming it', async () => {
    const formId = await newForm('Events');
    const hook = (payload: Record<string, unknown>) =>
      hub.request({
        method: 'POST',
        url: '/api/v2/zapier/hooks',
        key,
        payload: { target_url: 'http://127.0.0.1:9/zap', form_id: formId, ...payload },
      });
    const updated = await hook({ event: 'response.updated' });
    expect(updated.statusCode, updated.body).toBe(201);
    expect(Object.keys(updated.json())).toEqual(['id']);
    const read = await hub.request({
      method: 'GET',
      url: `/api/v2/integrations/${updated.json().id}`,
      key,
    });
    expect(read.json()).toMatchObject({ connector: 'zapier', events: ['response.updated'] });
    expect(fieldsOf(expectError(await hook({ event: 'form.created' }), 422))).toEqual(['event']);
    const details = expectError(await hook({ condition: { 'data.nope': 'x' } }), 422);
    expect(fieldsOf(details)[0]).toMatch(/^condition/);
  });

  it("another workspace's form or hook answers 404", async () => {
    const other = await hub.workspace('Intruder');
    const foreignForm = await newForm('Not yours', other.key);
    const res = await hub.request({
      method: 'POST',
      url: '/api/v2/zapier/hooks',
      key,
      payload: {
        target_url: 'http://127.0.0.1:9/zap',
        event: 'response.submitted',
        form_id: foreignForm,
      },
    });
    expectError(res, 404, 'not_found');
    expectError(
      await hub.request({ method: 'GET', url: `/api/v2/zapier/forms/${foreignForm}/sample`, key }),
      404,
      'not_found',
    );
    const mine = await newForm('Mine');
    const hookId = await subscribe(mine, 'http://127.0.0.1:9/zap');
    expectError(
      await hub.request({
        method: 'DELETE',
        url: `/api/v2/zapier/hooks/${hookId}`,
        key: other.key,
      }),
      404,
      'not_found',
    );
    expect(
      (await hub.request({ method: 'DELETE', url: `/api/v2/zapier/hooks/${hookId}`, key }))
        .statusCode,
    ).toBe(200);
  });
});
