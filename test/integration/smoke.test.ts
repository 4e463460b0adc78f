import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

describe('hub smoke', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(async () => hub.close());

  it('creates a workspace, a form, and accepts a public submission', async () => {
    const ws = await hub.workspace();
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: { title: 'T', fields: [{ key: 'name', type: 'text', required: true }] },
    });
    expect(form.statusCode).toBe(201);
    const id = form.json().id as string;
    const sub = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${id}/responses`,
      payload: { data: { name: 'x' } },
    });
    expect(sub.statusCode).toBe(201);
    expect(sub.json()).toMatchObject({ form_id: id, data: { name: 'x' }, completed: true });
    const ready = await hub.request({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'ok' } });
  });
});
