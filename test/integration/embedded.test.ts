import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * The embedded database (PGlite) has ONE connection: any code that queries the database
 * outside its transaction while holding one deadlocks there, though it works on a pool.
 * These flows run against PGlite with the worker, as `npm start` does.
 */
describe('embedded database (PGlite) with the worker', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let receiver: Receiver;
  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms' },
      { worker: true, embedded: true },
    );
    expect(hub.db.kind).toBe('pglite');
    key = (await hub.workspace()).key;
    formId = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: {
          title: 'Embedded',
          fields: [
            { key: 'name', type: 'text', required: true },
            { key: 'dept', type: 'select', options: ['IT', 'HR'] },
          ],
          calculated_fields: [{ key: 'shout', logic: { cat: [{ var: 'data.name' }, '!'] } }],
        },
      })
    ).json().id;
    receiver = await startReceiver();
    await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/webhooks`,
      key,
      payload: {
        url: receiver.url,
        events: ['response.submitted', 'response.updated', 'response.deleted'],
      },
    });
  }, 120_000);
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  it('submits, continues a partial response, updates, deletes, imports and counts it all', async () => {
    const done = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { name: 'Ada', dept: 'IT' } },
    });
    expect(done.statusCode, done.body).toBe(201);
    const partial = (
      await hub.request({
        method: 'POST',
        url: `/api/v2/forms/${formId}/responses`,
        payload: { data: { dept: 'HR' }, completed: false },
      })
    ).json();
    const completed = await hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${partial.id}`,
      headers: { 'x-resume-token': partial.resume_token },
      payload: { data: { name: 'Grace' }, completed: true },
    });
    expect(completed.statusCode, completed.body).toBe(200);
    expect(completed.json().data).toMatchObject({ name: 'Grace', shout: 'Grace!' });
    const patched = await hub.request({
      method: 'PATCH',
      url: `/api/v2/responses/${done.json().id}`,
      key,
      payload: { data: { dept: 'HR' } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(
      (await hub.request({ method: 'DELETE', url: `/api/v2/responses/${done.json().id}`, key }))
        .statusCode,
    ).toBe(204);
    const imported = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      payload: [{ data: { name: 'Old', dept: 'IT' }, submitted_at: '2026-01-05T10:00:00Z' }],
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const metrics = await hub.request({
      method: 'GET',
      url: `/api/v2/analytics/forms/${formId}/metrics`,
      key,
    });
    expect(metrics.statusCode, metrics.body).toBe(200);
    expect(metrics.json()).toMatchObject({ total: 2, completed: 2, partial: 0 });
    expect(metrics.json().fields.dept.counts).toEqual({ HR: 1, IT: 1 });
    const query = await hub.request({
      method: 'POST',
      url: `/api/v2/analytics/forms/${formId}/query`,
      key,
      payload: { aggregate: 'count', group_by: 'data.dept' },
    });
    expect(query.json()).toEqual({ result: { HR: 1, IT: 1 } });
  });

  it('exports responses directly and as a job (on an export thread, through a port to the PGlite thread)', async () => {
    const csv = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/export?format=csv`,
      key,
    });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.body.split('\r\n')[0]).toContain('name');
    expect(csv.body).toContain('Grace');
    const started = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/exports`,
      key,
      payload: { format: 'ndjson' },
    });
    expect(started.statusCode, started.body).toBe(202);
    const job = await eventually(async () => {
      const res = await hub.request({
        method: 'GET',
        url: `/api/v2/exports/${started.json().id}`,
        key,
      });
      return ['succeeded', 'failed'].includes(res.json().status) ? res.json() : undefined;
    });
    expect(job).toMatchObject({ status: 'succeeded', progress: 100 });
    const file = await hub.request({
      method: 'GET',
      url: `/api/v2/exports/${started.json().id}/download`,
      key,
    });
    expect(
      file.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).data.name),
    ).toEqual(['Grace', 'Old']);
  });

  it('delivers every event to the webhook', async () => {
    const requests = await receiver.waitFor(4, 30_000);
    const events = requests.map((r) => JSON.parse(r.body).event).sort();
    expect(events).toEqual([
      'response.deleted',
      'response.submitted',
      'response.submitted',
      'response.updated',
    ]);
    const ready = await eventually(async () => {
      const res = await hub.request({ method: 'GET', url: '/readyz' });
      return res.statusCode === 200 ? res : undefined;
    });
    expect(ready.json().checks.database).toBe('ok');
  });
});
