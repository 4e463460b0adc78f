import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Migration 6 back-fills Nango connection owners from the integrations that existed before
 * owners were recorded: the oldest integration naming a connection makes its workspace the
 * owner, and other workspaces' integrations naming it (the cross-tenant ones) are turned off.
 */
describe('migration 6 (Nango connection owners)', () => {
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openDatabase(
      loadConfig({ DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:6379' }),
    );
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('records the first registrant as owner and turns off other workspaces’ integrations on that connection', async () => {
    await migrate(
      db,
      migrations.filter((m) => m.version < 6),
    );
    const [a, b] = [randomUUID(), randomUUID()];
    const forms: Record<string, string> = { [a]: randomUUID(), [b]: randomUUID() };
    for (const ws of [a, b]) {
      await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'w')`, [ws]);
      await db.query(
        `INSERT INTO forms (id, workspace_id, title, status, fields) VALUES ($1, $2, 'f', 'published', '[]')`,
        [forms[ws], ws],
      );
    }
    const rows = [
      { ws: a, connection: 'sf-a', at: '2026-01-01T00:00:00Z' }, // A registered it first
      { ws: b, connection: 'sf-a', at: '2026-02-01T00:00:00Z' }, // B named it later: the theft
      { ws: a, connection: 'sf-a', at: '2026-03-01T00:00:00Z' }, // A again: still A's
      { ws: b, connection: 'sf-b', at: '2026-01-15T00:00:00Z' }, // B's own
    ].map((r) => ({ ...r, id: randomUUID() }));
    for (const r of rows) {
      await db.query(
        `INSERT INTO integrations (id, workspace_id, form_id, connector, events, config_sealed, connection_id,
           provider_config_key, created_at)
         VALUES ($1, $2, $3, 'salesforce', '{response.submitted}', 'x', $4, 'salesforce', $5)`,
        [r.id, r.ws, forms[r.ws], r.connection, r.at],
      );
    }
    expect(
      await migrate(
        db,
        migrations.filter((m) => m.version <= 6),
      ),
    ).toEqual([6]);

    const owners = await db.query<{ connection_id: string; workspace_id: string }>(
      'SELECT connection_id, workspace_id FROM nango_connection_owners ORDER BY connection_id',
    );
    expect(owners.rows).toEqual([
      { connection_id: 'sf-a', workspace_id: a },
      { connection_id: 'sf-b', workspace_id: b },
    ]);
    const state = await db.query<{ id: string; active: boolean; disabled_reason: string | null }>(
      'SELECT id, active, disabled_reason FROM integrations',
    );
    const byId = new Map(state.rows.map((r) => [r.id, r]));
    expect(byId.get(rows[1]!.id)).toMatchObject({
      active: false,
      disabled_reason: 'the Nango connection belongs to another workspace',
    });
    for (const r of [rows[0]!, rows[2]!, rows[3]!])
      expect(byId.get(r.id)).toMatchObject({ active: true, disabled_reason: null });
  });
});
