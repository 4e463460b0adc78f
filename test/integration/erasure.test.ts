import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fieldsOf } from '../support/api.ts';
import { listDeliveries, settledDeliveries } from '../support/deliveries.ts';
import {
  caller,
  dependents,
  expectMetricsEqualSql,
  finishedErasure,
  sqlCount,
  type ErasureBody,
} from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

const ADA = 'ada@example.com';
const FIELDS = [
  { key: 'email', type: 'email' },
  { key: 'color', type: 'select', options: ['red', 'green', 'blue'] },
];
const MATCH = { 'data.email': { $eq: ADA } };

describe('erasure (DESIGN.md section 4b)', () => {
  let hub: TestHub;
  let receiver: Receiver;

  beforeAll(async () => {
    hub = await startHub({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { worker: true });
    receiver = await startReceiver(() => ({ status: 200 }));
  });
  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });

  it('hard-deletes the matching responses and all that holds their data, and nothing else', async () => {
    const a = await hub.workspace('Erasing');
    const other = await hub.workspace('Untouched');
    const call = caller(hub, a.key);
    const callOther = caller(hub, other.key);
    const f1 = await call('POST', '/forms', { title: 'Signup', fields: FIELDS });
    const f2 = await call('POST', '/forms', { title: 'Survey', fields: FIELDS });
    const foreign = await callOther('POST', '/forms', { title: 'Theirs', fields: FIELDS });
    const hook = await call('POST', `/forms/${f1.id}/webhooks`, {
      url: `${receiver.url}/f1`,
      events: ['response.submitted', 'response.updated', 'response.deleted'],
    });
    const submit = (formId: string, data: object, key?: string, completed = true) =>
      call(
        'POST',
        `/forms/${formId}/responses`,
        { data, completed },
        key ? { 'idempotency-key': key } : {},
      );

    const adaKeyed = await submit(f1.id, { email: ADA, color: 'red' }, 'k-ada');
    const adaPlain = await submit(f1.id, { email: ADA, color: 'blue' });
    const adaDeleted = await submit(f1.id, { email: ADA, color: 'green' });
    const adaPartial = await submit(f1.id, { email: ADA }, undefined, false);
    await call('PATCH', `/responses/${adaPlain.id}`, { data: { color: 'green' } });
    await call('DELETE', `/responses/${adaDeleted.id}`);
    const bob = await submit(f1.id, { email: 'bob@example.com', color: 'red' }, 'k-bob');
    const cy = await submit(f1.id, { email: 'cy@example.com', color: 'blue' });
    const adaF2 = await submit(f2.id, { email: ADA, color: 'red' });
    const eveF2 = await submit(f2.id, { email: 'eve@example.com', color: 'red' });
    const adaForeign = await callOther('POST', `/forms/${foreign.id}/responses`, {
      data: { email: ADA, color: 'red' },
    });
    const adaIds = [adaKeyed, adaPlain, adaDeleted, adaPartial, adaF2].map((r) => r.id);
    const keptIds = [bob.id, cy.id, eveF2.id];

    // F1's events reach the webhook: 5 submitted, 1 updated, 1 deleted (started is not sent).
    const deliveries = await settledDeliveries(hub, a.key, hook.id, 7);
    expect(deliveries.every((d) => d.attempts.length === 1)).toBe(true);
    // An export file of F1 (it holds Ada) and the metrics built in Redis before the erasure.
    const job = await call('POST', `/forms/${f1.id}/exports`, { format: 'csv' });
    const exported = await eventually(async () => {
      const row = await call<{ status: string }>('GET', `/exports/${job.id}`);
      return row.status === 'succeeded' ? row : undefined;
    });
    expect(exported.status).toBe('succeeded');
    // Its file is an artifact in PostgreSQL (src/artifacts): a row and its chunks.
    const { rows: files } = await hub.db.query<{ artifact_id: string }>(
      'SELECT artifact_id FROM export_jobs WHERE id = $1',
      [job.id],
    );
    const artifactId = files[0]!.artifact_id;
    const stored = () =>
      sqlCount(
        hub,
        `SELECT (SELECT count(*) FROM artifacts WHERE id = $1)
              + (SELECT count(*) FROM artifact_chunks WHERE artifact_id = $1) AS n`,
        [artifactId],
      );
    expect(await stored()).toBeGreaterThan(1);
    const before = await call<{ total: number }>('GET', `/analytics/forms/${f1.id}/metrics`);
    expect(before.total).toBe(5); // the soft-deleted one is no longer counted
    await call('GET', `/analytics/forms/${f2.id}/metrics`);

    // An export of F2 still running (as another API process would have it): it may have
    // read Ada, so the erasure fails it, and it is never marked succeeded after.
    const running = '01900000-0000-7000-8000-00000000e7a5';
    await hub.db.query(
      `INSERT INTO export_jobs (id, workspace_id, form_id, format, status, heartbeat_at)
       VALUES ($1, $2, $3, 'csv', 'running', now())`,
      [running, a.id, f2.id],
    );

    const expected = await dependents(hub, a.id, adaIds);
    expect(expected).toMatchObject({ responses: 5, idempotency_records: 1 });
    expect(expected.events).toBe(7); // F1: 3 submitted, 1 started, 1 updated, 1 deleted; F2: 1
    expect(expected.deliveries).toBe(5); // F1's Ada events but `started`
    expect(expected.attempts).toBe(5);
    const outsideBefore = await dependents(hub, a.id, keptIds);

    const posted = await hub.request({
      method: 'POST',
      url: '/api/v2/erasures',
      key: a.key,
      payload: { match: MATCH },
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const queued = posted.json() as { id: string; status: string };
    expect(queued.status).toBe('queued');
    const erasure = await finishedErasure(hub, a.key, queued.id);
    expect(erasure).toMatchObject({
      status: 'succeeded',
      form_id: null,
      // The values are gone once the job has ended; the paths matched on stay.
      match: Object.fromEntries(Object.keys(MATCH).map((k) => [k, '[erased]'])),
      error: null,
      counts: { ...expected, export_files: 1 },
    });
    expect(erasure.finished_at).not.toBeNull();

    // Gone: the responses and everything that carried them; the export file and its job.
    expect(await dependents(hub, a.id, adaIds)).toEqual({
      responses: 5,
      events: 0,
      deliveries: 0,
      attempts: 0,
      idempotency_records: 0,
    });
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM responses WHERE id = ANY($1::uuid[])', [
        adaIds,
      ]),
    ).toBe(0);
    for (const id of adaIds)
      expect(
        (await hub.request({ method: 'GET', url: `/api/v2/responses/${id}`, key: a.key }))
          .statusCode,
      ).toBe(404);
    expect(await stored()).toBe(0);
    expect(
      (await hub.request({ method: 'GET', url: `/api/v2/exports/${job.id}`, key: a.key }))
        .statusCode,
    ).toBe(404);
    // The webhook keeps the deliveries of Bob's and Cy's submissions only.
    const left = await listDeliveries(hub, a.key, hook.id);
    expect(left).toHaveLength(2);
    expect(deliveries.filter((d) => left.some((l) => l.id === d.id))).toHaveLength(2);
    const cancelled = await call<{ status: string; error: string }>('GET', `/exports/${running}`);
    expect(cancelled).toMatchObject({ status: 'failed' });
    expect(cancelled.error).toMatch(/erasure/);
    // Untouched: the other responses of the workspace with their data, the other workspace.
    expect(await dependents(hub, a.id, keptIds)).toEqual(outsideBefore);
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM responses WHERE id = $1', [adaForeign.id]),
    ).toBe(1);
    expect(
      await sqlCount(
        hub,
        `SELECT count(*) AS n FROM outbox WHERE payload -> 'response' ->> 'id' = $1`,
        [adaForeign.id],
      ),
    ).toBe(1);

    // As a data-protection officer would check: no row of any table, as text, holds Ada's
    // address or an erased response's id, but the other workspace's own Ada (kept).
    const tables = await hub.db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.rows.length).toBeGreaterThan(10);
    const traces: string[] = [];
    for (const { name } of tables.rows) {
      const { rows } = await hub.db.query<{ row: string }>(
        `SELECT t::text AS row FROM "${name}" t WHERE strpos(t::text, $1) > 0 OR t::text ~ $2`,
        [ADA, adaIds.join('|')],
      );
      for (const { row } of rows)
        if (!row.includes(adaForeign.id) && !row.includes(other.id))
          traces.push(`${name}: ${row.slice(0, 160)}`);
    }
    expect(traces).toEqual([]);

    // The metrics equal SQL over what is left, in Redis (rebuilt) as in PostgreSQL.
    await expectMetricsEqualSql(hub, a.key, f1.id, 'color');
    await expectMetricsEqualSql(hub, a.key, f2.id, 'color');
    const after = await call<{ total: number; completed: number }>(
      'GET',
      `/analytics/forms/${f1.id}/metrics`,
    );
    expect(after).toMatchObject({ total: 2, completed: 2 });

    // The idempotency record went with Ada's response: the same key makes a new one.
    const replayAda = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${f1.id}/responses`,
      key: a.key,
      headers: { 'idempotency-key': 'k-ada' },
      payload: { data: { email: ADA, color: 'red' }, completed: true },
    });
    expect(replayAda.statusCode).toBe(201);
    expect(replayAda.headers['idempotent-replayed']).toBeUndefined();
    expect((replayAda.json() as { id: string }).id).not.toBe(adaKeyed.id);
    // Bob's was kept: his key still answers the first answer.
    const replayBob = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${f1.id}/responses`,
      key: a.key,
      headers: { 'idempotency-key': 'k-bob' },
      payload: { data: { email: 'bob@example.com', color: 'red' }, completed: true },
    });
    expect(replayBob.headers['idempotent-replayed']).toBe('true');
    expect((replayBob.json() as { id: string }).id).toBe(bob.id);
    await expectMetricsEqualSql(hub, a.key, f1.id, 'color');

    // The audit log names the erasure.
    const audit = await call<{ data: { action: string; resource: { id: string } }[] }>(
      'GET',
      '/audit-log?action=erasure.created',
    );
    expect(audit.data.map((e) => e.resource.id)).toEqual([queued.id]);
    // Another workspace's erasure is not found.
    const foreignGet = await hub.request({
      method: 'GET',
      url: `/api/v2/erasures/${queued.id}`,
      key: other.key,
    });
    expectError(foreignGet, 404, 'not_found');
  });

  it('erases one form only when form_id is given', async () => {
    const { key } = await hub.workspace('One form');
    const call = caller(hub, key);
    const f1 = await call('POST', '/forms', { title: 'One', fields: FIELDS });
    const f2 = await call('POST', '/forms', { title: 'Two', fields: FIELDS });
    for (const form of [f1, f2])
      await call('POST', `/forms/${form.id}/responses`, { data: { email: ADA, color: 'red' } });
    const { id } = await call('POST', '/erasures', { form_id: f1.id, match: MATCH });
    const done = await finishedErasure(hub, key, id);
    expect(done).toMatchObject({ status: 'succeeded', form_id: f1.id });
    expect(done.counts.responses).toBe(1);
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM responses WHERE form_id = $1', [f1.id]),
    ).toBe(0);
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM responses WHERE form_id = $1', [f2.id]),
    ).toBe(1);
    await expectMetricsEqualSql(hub, key, f1.id, 'color');
  });

  it('takes over a job whose worker went silent, and goes on from its counts', async () => {
    const ws = await hub.workspace('Taken over');
    const call = caller(hub, ws.key);
    const form = await call('POST', '/forms', { title: 'T', fields: FIELDS });
    for (let i = 0; i < 3; i++)
      await call('POST', `/forms/${form.id}/responses`, { data: { email: ADA, color: 'red' } });
    // As a worker that died after erasing 2 responses would have left it.
    const id = '01900000-0000-7000-8000-0000000dead1';
    await hub.db.query(
      `INSERT INTO erasures (id, workspace_id, form_id, match, status, counts, forms, started_at, heartbeat_at)
       VALUES ($1, $2, $3, $4, 'running', '{"responses": 2, "events": 2}', ARRAY[$3::uuid],
               now() - interval '5 minutes', now() - interval '2 minutes')`,
      [id, ws.id, form.id, JSON.stringify(MATCH)],
    );
    const done = await finishedErasure(hub, ws.key, id);
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(done.counts).toMatchObject({ responses: 5, events: 5, idempotency_records: 0 });
    await expectMetricsEqualSql(hub, ws.key, form.id, 'color');
  });

  it('refuses a bad match with 422 naming the part, and forms of other workspaces with 404', async () => {
    const { key } = await hub.workspace('Validation');
    const other = await hub.workspace('Elsewhere');
    const call = caller(hub, key);
    const form = await call('POST', '/forms', { title: 'V', fields: FIELDS });
    const theirs = await caller(hub, other.key)('POST', '/forms', { title: 'T', fields: FIELDS });
    const post = (payload: object) =>
      hub.request({ method: 'POST', url: '/api/v2/erasures', key, payload });
    const cases: [object, string][] = [
      [{ form_id: form.id, match: { 'data.nope': 'x' } }, 'match.data.nope'],
      [{ match: { 'data.email': { $regex: 'a' } } }, 'match.data.email.$regex'],
      [{ match: { 'data.color': { $gt: true } } }, 'match.data.color.$gt'],
      [{ match: { $or: [] } }, 'match.$or'],
    ];
    for (const [payload, field] of cases) {
      const details = expectError(await post(payload), 422, 'validation_failed');
      expect(fieldsOf(details), JSON.stringify(payload)).toContain(field);
    }
    expectError(await post({ match: {} }), 422);
    expectError(await post({ match: 'data.email' }), 422);
    expectError(await post({}), 422);
    expectError(await post({ form_id: theirs.id, match: MATCH }), 404, 'not_found');
    expectError(
      await hub.request({ method: 'GET', url: '/api/v2/erasures/nope', key }),
      404,
      'not_found',
    );
    const none = await hub.db.query(
      'SELECT 1 FROM erasures WHERE workspace_id = (SELECT workspace_id FROM forms WHERE id = $1)',
      [form.id],
    );
    expect(none.rows).toHaveLength(0);
  });
});

export type { ErasureBody };
