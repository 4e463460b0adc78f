import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { deleteExpiredDeliveries } from '../../src/delivery/index.ts';
import { claimDeliveries } from '../../src/delivery/queries.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { caller } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * The payload of a delivery lives in `delivery_payloads` (migration 23), not in the row every
 * attempt rewrites. What receivers get, what the API shows and what a replay sends stay as
 * they were, for the largest response the API takes too; the payload goes with its delivery.
 */

/** Text that tests the JSON path: escapes, the six characters `\u0000`, controls, non-BMP. */
const ODD =
  'a "quoted" \\ back\\slash, the text \\u0000 (not a NUL), \u0001\u001f\t\n, é, 😀, \u2028';

const TITLE = 'Payloads "é" 😀 \\u0000';

/** A string that makes the submission's body just under the 1 MiB limit. */
function nearMiB(): string {
  const unit = `${ODD} ${'x'.repeat(900)} `;
  const budget = 1024 * 1024 - 2_000;
  return unit.repeat(Math.floor(budget / Buffer.byteLength(JSON.stringify(unit)))).slice(0, -1);
}

describe('delivery payloads in their own table', () => {
  let hub: TestHub;
  let receiver: Receiver;
  let call: ReturnType<typeof caller>;
  let formId: string;
  let hook: { id: string; secret: string };

  beforeAll(async () => {
    hub = await startHub(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '100ms' },
      { worker: true },
    );
    const ws = await hub.workspace();
    call = caller(hub, ws.key);
    receiver = await startReceiver();
    formId = (
      await call('POST', '/forms', {
        title: TITLE,
        fields: [
          { key: 'note', type: 'textarea' },
          { key: 'tags', type: 'multiselect', options: ['a', 'b'] },
        ],
      })
    ).id;
    hook = await call('POST', `/forms/${formId}/webhooks`, { url: receiver.url });
  });
  afterAll(async () => {
    await receiver?.close();
    await hub?.close();
  });

  const deliveryOf = (responseId: string) =>
    eventually(async () => {
      const { rows } = await hub.db.query<{ id: string; status: string }>(
        `SELECT d.id, d.status FROM deliveries d JOIN delivery_payloads p ON p.delivery_id = d.id
          WHERE p.payload -> 'response' ->> 'id' = $1`,
        [responseId],
      );
      return rows[0]?.status === 'succeeded' ? rows[0] : undefined;
    });

  it('delivers, shows and replays a near-1 MiB payload with odd text exactly', async () => {
    const note = nearMiB();
    const submitted = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { note, tags: ['b', 'a'] } },
    });
    expect(submitted.statusCode).toBe(201);
    const response = submitted.json() as { id: string };
    const [first] = await receiver.waitFor(1);
    expect(first!.body.length).toBeGreaterThan(1_000_000);
    const body = JSON.parse(first!.body) as Record<string, unknown>;
    // The response as the API shows it, to the character.
    expect(body.response).toEqual(await call('GET', `/responses/${response.id}`));
    expect((body.response as { data: { note: string } }).data.note).toBe(note);
    expect(body.form).toEqual({ id: formId, title: TITLE });
    expect(
      new Webhook(hook.secret).verify(first!.body, first!.headers as Record<string, string>),
    ).toEqual(body);

    const delivery = await deliveryOf(response.id);
    expect(body.delivery_id).toBe(delivery.id);
    // The detail and the listing show the delivery as before (no payload of their own).
    const detail = await call('GET', `/deliveries/${delivery.id.toUpperCase()}`);
    expect(detail).toMatchObject({ id: delivery.id, event: 'response.submitted' });
    expect(detail).not.toHaveProperty('payload');
    const listed = await call<{ data: unknown[] }>('GET', `/webhooks/${hook.id}/deliveries`);
    expect(listed.data).toContainEqual(detail);

    // A replay sends the same bytes (same id, same created_at, same payload).
    await call('POST', `/deliveries/${delivery.id}/replay`);
    const [, again] = await receiver.waitFor(2);
    expect(again!.body).toBe(first!.body);
    expect(again!.headers['x-webhook-id']).toBe(delivery.id);
  });

  it('refuses U+0000 itself at submission, so no payload can hold one', async () => {
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      payload: { data: { note: 'a\u0000b' } },
    });
    expect(res.statusCode).toBe(422);
  });

  it('erasure and retention delete the payload rows with their deliveries', async () => {
    const ids: string[] = [];
    for (const note of ['erase me', 'keep me'])
      ids.push((await call('POST', `/forms/${formId}/responses`, { data: { note } })).id);
    const [erased, kept] = await Promise.all(ids.map((id) => deliveryOf(id)));
    const payloads = async () =>
      (
        await hub.db.query<{ id: string }>(
          'SELECT delivery_id AS id FROM delivery_payloads WHERE delivery_id = ANY($1::uuid[])',
          [[erased!.id, kept!.id]],
        )
      ).rows.map((r) => r.id);
    expect((await payloads()).sort()).toEqual([erased!.id, kept!.id].sort());

    const job = await call('POST', '/erasures', {
      form_id: formId,
      match: { 'data.note': 'erase me' },
    });
    await eventually(async () => {
      const state = await call<{ status: string }>('GET', `/erasures/${job.id}`);
      return state.status === 'succeeded' ? state : undefined;
    });
    expect(await payloads()).toEqual([kept!.id]);

    await call('PATCH', '/workspace', { retention: { deliveries_days: 1 } });
    await deleteExpiredDeliveries(hub.db, new Date(Date.now() + 3 * 86_400_000));
    expect(await payloads()).toEqual([]);
    const orphans = await hub.db.query(
      `SELECT 1 FROM delivery_payloads p WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = p.delivery_id)`,
    );
    expect(orphans.rows).toEqual([]);
  });
});

describe.each(['postgres', 'embedded'] as const)('migration 23 on %s', (backend) => {
  let db: Database;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    database = backend === 'postgres' ? await createTestDatabase() : undefined;
    dataDir = backend === 'embedded' ? mkdtempSync(join(tmpdir(), 'formhub-m23-')) : undefined;
    const config = loadConfig({
      ...(database ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir! }),
      DATABASE_POOL_MIN: '0',
      DATABASE_POOL_MAX: '2',
      FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
    });
    db = await openDatabase(config);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('moves every existing payload, and claims read it from there', async () => {
    await migrate(
      db,
      migrations.filter((m) => m.version <= 21),
    );
    const [workspace, form, integration] = [randomUUID(), randomUUID(), randomUUID()];
    await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'w')`, [workspace]);
    await db.query(
      `INSERT INTO forms (id, workspace_id, title, status, fields) VALUES ($1, $2, 'f', 'published', '[]')`,
      [form, workspace],
    );
    await db.query(
      `INSERT INTO integrations (id, workspace_id, form_id, connector, config_sealed, events)
       VALUES ($1, $2, $3, 'webhook', 'x', ARRAY['response.submitted'])`,
      [integration, workspace, form],
    );
    const payloads = ['small', ODD, nearMiB()].map((note) => ({
      id: randomUUID(),
      type: 'response.submitted',
      form: { id: form, title: 'f' },
      response: { id: randomUUID(), data: { note } },
    }));
    const ids: string[] = [];
    for (const payload of payloads) {
      const id = randomUUID();
      ids.push(id);
      await db.query(
        `INSERT INTO deliveries (id, workspace_id, integration_id, event_id, event_type, payload, status, next_attempt_at)
         VALUES ($1, $2, $3, $4, 'response.submitted', $5, 'pending', now())`,
        [id, workspace, integration, payload.id, JSON.stringify(payload)],
      );
    }
    expect(await migrate(db)).toContain(23);

    const columns = await db.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'deliveries' AND column_name = 'payload'`,
    );
    expect(columns.rows).toEqual([]);
    const claimed = await claimDeliveries(
      db,
      ids.map((id) => ({ id, attempt: 1 })),
      60_000,
    );
    expect(claimed.map((c) => c?.payload)).toEqual(payloads);
    // The erasure still finds a delivery by its response id, through the moved index.
    const found = await db.query<{ delivery_id: string }>(
      `SELECT delivery_id FROM delivery_payloads WHERE (payload -> 'response' ->> 'id') = $1`,
      [payloads[1]!.response.id],
    );
    expect(found.rows).toEqual([{ delivery_id: ids[1] }]);
  });
});
