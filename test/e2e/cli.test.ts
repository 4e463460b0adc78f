import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort, runCli, startServer } from '../support/process.ts';

const ADMIN = 'e2e-admin-key-0123456789';

describe('formhub CLI', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-e2e-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops at start with one line naming each bad variable', async () => {
    const result = await runCli(['serve'], {
      PORT: 'abc',
      WEBHOOK_RETRY_SCHEDULE: '1s,soon',
      DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^formhub: invalid configuration: PORT must be an integer/);
    expect(lines[1]).toMatch(/^formhub: invalid configuration: WEBHOOK_RETRY_SCHEDULE/);
  });

  it('says in one line when Redis is unreachable, where it looked and how to fix it', async () => {
    const port = await freePort();
    const result = await runCli(['serve'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(result.stderr).toContain('REDIS_URL');
  });

  it('says in one line when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const result = await runCli(['serve'], {
      DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/formhub`,
      DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/formhub`,
    );
    expect(result.stderr).not.toContain('secret');
  });

  it('runs on the embedded database, serves a submission, shuts down cleanly and keeps the data', async () => {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, FORMHUB_ADMIN_KEY: ADMIN, REDIS_PREFIX: `e2e-${port}:` };
    const server = await startServer(['serve'], env, port);
    const base = `http://127.0.0.1:${port}/api/v2`;
    const post = (path: string, body: unknown, key?: string) =>
      fetch(base + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const ws = (await (await post('/workspaces', { name: 'Embedded' }, ADMIN)).json()) as {
      api_key: string;
    };
    const form = (await (
      await post(
        '/forms',
        { title: 'Hello', fields: [{ key: 'name', type: 'text', required: true }] },
        ws.api_key,
      )
    ).json()) as { id: string };
    const submitted = await post(`/forms/${form.id}/responses`, { data: { name: 'Ada' } });
    expect(submitted.status).toBe(201);
    const code = await server.stop();
    expect(code, server.output().slice(-3000)).toBe(0);

    const again = await startServer(['serve'], env, port);
    const list = await fetch(`${base}/forms/${form.id}/responses`, {
      headers: { authorization: `Bearer ${ws.api_key}` },
    });
    const body = (await list.json()) as { data: { data: { name: string } }[] };
    expect(body.data.map((r) => r.data.name)).toEqual(['Ada']);
    const againCode = await again.stop();
    expect(againCode, again.output().slice(-3000)).toBe(0);
  }, 180_000);

  describe('with PostgreSQL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => database.drop());

    it('migrates, then creates a workspace key that the API accepts', async () => {
      const env = { DATABASE_URL: database.url, DATA_DIR: dataDir };
      const migrated = await runCli(['migrate'], env);
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toContain('applied migrations: 1');
      expect((await runCli(['migrate'], env)).stdout).toContain('up to date');
      const created = await runCli(['keys', 'create', '--new-workspace', 'CLI co'], env);
      expect(created.code).toBe(0);
      const { key, workspace_id: workspaceId } = JSON.parse(created.stdout) as {
        key: string;
        workspace_id: string;
      };
      expect(key).toMatch(/^fh_/);
      const second = await runCli(
        ['keys', 'create', '--workspace', workspaceId, '--name', 'ci'],
        env,
      );
      expect(JSON.parse(second.stdout)).toMatchObject({
        workspace_id: workspaceId,
        name: 'ci',
        form_ids: null,
      });
      expect((JSON.parse(second.stdout) as { scopes: string[] }).scopes).toHaveLength(9);

      // Bad limits: one line each, and no key is made.
      const badScope = await runCli(
        ['keys', 'create', '--workspace', workspaceId, '--scopes', 'forms:read,forms:delete'],
        env,
      );
      expect(badScope.code).toBe(1);
      expect(badScope.stderr.trim().split('\n')).toHaveLength(1);
      expect(badScope.stderr).toContain('--scopes takes a comma-separated list of forms:read');
      const unknownForm = crypto.randomUUID();
      const badForm = await runCli(
        ['keys', 'create', '--workspace', workspaceId, '--forms', unknownForm.toUpperCase()],
        env,
      );
      expect(badForm.code).toBe(1);
      expect(badForm.stderr).toContain(`--forms: no form ${unknownForm}`);

      const port = await freePort();
      const server = await startServer(['api'], { ...env, REDIS_PREFIX: `e2e-${port}:` }, port);
      const api = (path: string, bearer: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${port}/api/v2${path}`, {
          ...init,
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        });
      const keys = await api('/api-keys', key);
      expect(keys.status).toBe(200);
      expect(((await keys.json()) as { data: unknown[] }).data).toHaveLength(2);

      // A key limited from the command line, while the API runs: read-only, one form.
      const form = await api('/forms', key, {
        method: 'POST',
        body: JSON.stringify({ title: 'Limited', fields: [{ key: 'a', type: 'text' }] }),
      });
      const formId = ((await form.json()) as { id: string }).id;
      const limited = await runCli(
        ['keys', 'create', '--workspace', workspaceId, '--scopes', 'forms:read', '--forms', formId],
        env,
      );
      expect(limited.code, limited.stderr).toBe(0);
      const limitedKey = JSON.parse(limited.stdout) as { key: string; scopes: string[] };
      expect(limitedKey).toMatchObject({ scopes: ['forms:read'], form_ids: [formId] });
      expect((await api(`/forms/${formId}`, limitedKey.key)).status).toBe(200);
      const write = await api(`/forms/${formId}`, limitedKey.key, {
        method: 'PATCH',
        body: JSON.stringify({ title: 'Renamed' }),
      });
      expect(write.status).toBe(403);
      expect(
        ((await api('/api-keys', key).then((r) => r.json())) as { data: unknown[] }).data,
      ).toHaveLength(3);
      expect(await server.stop()).toBe(0);
    }, 180_000);
  });
});
