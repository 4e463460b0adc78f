import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/db/index.ts';
import { EXPORT_PAGE_SIZE, exportRoutes } from '../../src/exports/index.ts';
import { FormService } from '../../src/forms/index.ts';
import { createAuthHooks } from '../../src/http/auth.ts';
import { registerErrorHandler } from '../../src/http/error-handler.ts';
import { ErrorBody } from '../../src/http/schemas.ts';
import { createValidatorCompiler } from '../../src/http/validators.ts';
import { WorkspaceService } from '../../src/workspaces/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

/** Three pages: the job reports progress after the first and the second. */
const ROWS = 2 * EXPORT_PAGE_SIZE + 500;

/**
 * A database whose export page reads after the first wait for `release`: the job cannot
 * finish before the test has seen the progress it saved after page one, however fast the
 * machine is, so "progress between 0 and 100" is observed, not hoped for.
 */
function gatedDb(db: Database, release: Promise<void>): Database {
  let pages = 0;
  const reader: Queryable = {
    query: async (sql, params) => {
      if (sql.includes('cursor_at') && ++pages > 1) await release;
      return db.reader.query(sql, params);
    },
  };
  return Object.assign(Object.create(db) as Database, {
    reader,
    query: db.query.bind(db),
    transaction: db.transaction.bind(db),
  });
}

describe('export job progress', () => {
  let hub: TestHub;
  let app: FastifyInstance;
  let dataDir: string;
  let key: string;
  let formId: string;
  let open!: () => void;
  const release = new Promise<void>((resolve) => (open = resolve));

  beforeAll(async () => {
    hub = await startHub();
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-export-progress-'));
    app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
    app.setValidatorCompiler(createValidatorCompiler());
    registerErrorHandler(app);
    app.addSchema(ErrorBody);
    const workspaces = new WorkspaceService(hub.db, hub.config.adminKey);
    await app.register(exportRoutes, {
      prefix: '/api/v2',
      db: gatedDb(hub.db, release),
      forms: new FormService(hub.db),
      auth: createAuthHooks((k) => workspaces.authenticate(k)),
      dataDir,
    });
    await app.ready();
    key = (await hub.workspace('progress')).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Many', fields: [{ key: 'n', type: 'integer' }] },
    });
    formId = (form.json() as { id: string }).id;
    const rows = Array.from({ length: ROWS }, (_, n) => ({
      data: { n },
      submitted_at: new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
    }));
    const imported = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      payload: rows,
    });
    expect(imported.statusCode, imported.body).toBe(201);
  }, 120_000);

  afterAll(async () => {
    open?.();
    await app?.close();
    await hub?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const status = async (id: string) => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v2/exports/${id}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { status: string; progress: number; total: number | null };
  };

  /** Polls the job until `done` says so, collecting every progress value it showed. */
  const watch = async (
    id: string,
    seen: number[],
    done: (job: { status: string; progress: number }) => boolean,
  ) => {
    const deadline = Date.now() + 60_000; // a last guard only: each step waits on the job itself
    for (;;) {
      const job = await status(id);
      seen.push(job.progress);
      if (done(job)) return job;
      if (job.status === 'failed') throw new Error(`the export job failed: ${JSON.stringify(job)}`);
      if (Date.now() > deadline) throw new Error(`the export job stayed at ${JSON.stringify(job)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('reports a progress strictly between 0 and 100 while it runs, rising to 100', async () => {
    const started = await app.inject({
      method: 'POST',
      url: `/api/v2/forms/${formId}/exports`,
      headers: { authorization: `Bearer ${key}` },
      payload: { format: 'csv' },
    });
    expect(started.statusCode, started.body).toBe(202);
    const { id } = started.json() as { id: string };
    const seen: number[] = [];
    // Page two waits for the gate: the job is held mid-way until the test has seen it there.
    const midway = await watch(id, seen, (job) => job.progress > 0);
    expect(midway).toMatchObject({ status: 'running', total: ROWS });
    expect(midway.progress).toBe(Math.floor((EXPORT_PAGE_SIZE * 100) / ROWS));
    open();
    const finished = await watch(id, seen, (job) => job.status === 'succeeded');
    expect(finished.progress).toBe(100);
    expect(seen.filter((p) => p > 0 && p < 100).length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // never goes back
    const download = await app.inject({
      method: 'GET',
      url: `/api/v2/exports/${id}/download`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(download.statusCode).toBe(200);
    expect(download.body.trimEnd().split('\r\n')).toHaveLength(ROWS + 1);
  });
});
