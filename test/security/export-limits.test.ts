import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createNoteForm,
  download,
  insertNotes,
  startExportHub,
  type ExportHub,
} from './export-hub.ts';
import { watchHealthz, whileWatching } from './loop-watch.ts';

interface Job {
  id: string;
  status: string;
  expires_at: string | null;
  error: string | null;
}

/**
 * Attacks on export jobs and PDF rendering, against a `formhub api` child process: many jobs
 * at once (they were unlimited), files left readable by others and kept for ever, and a PDF
 * of a few thousand rows that used to render on the event loop in one go (3,000 rows blocked
 * `/healthz` for about 5 s).
 */
describe('export jobs are limited, private and temporary; PDF rendering yields', () => {
  let database: TestDatabase;
  let dataDir: string;
  let hub: ExportHub;
  let smallForm: string;
  let pdfForm: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hub.baseUrl}/api/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${hub.key}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };

  const withClient = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const sql = async <R extends pg.QueryResultRow>(text: string, params: unknown[]) =>
    (await withClient((client) => client.query<R>(text, params))).rows;

  /** Polls the job (bounded) until `done` holds; answers its last state. */
  const awaitJob = async (
    id: string,
    done: (job: Job) => boolean,
    timeoutMs = 60_000,
  ): Promise<Job> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await api('GET', `/exports/${id}`)).json as unknown as Job;
      if (done(job) || Date.now() > deadline) return job;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-export-limits-'));
    hub = await startExportHub(database.url, dataDir, { EXPORT_TTL: '3s' });
    smallForm = await createNoteForm(hub, 'Small');
    pdfForm = await createNoteForm(hub, 'Many');
    await insertNotes(database.url, hub.workspaceId, smallForm, 10, 100);
    await insertNotes(database.url, hub.workspaceId, pdfForm, 2_000, 250);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps /healthz answering while a PDF of 2,000 responses renders', async () => {
    const { result, stallMs } = await whileWatching(watchHealthz(hub.baseUrl), () =>
      download(hub, `/api/v2/forms/${pdfForm}/export?format=pdf`),
    );
    expect(result.status).toBe(200);
    expect(result.bytes).toBeGreaterThan(10_000);
    expect(stallMs).toBeLessThan(1_000);
  }, 180_000);

  it('keeps job files in PostgreSQL, never on the disk, and deletes them after EXPORT_TTL', async () => {
    const started = await api('POST', `/forms/${smallForm}/exports`, { format: 'csv' });
    expect(started.status).toBe(202);
    const id = started.json.id as string;
    const done = await awaitJob(id, (job) => job.status !== 'queued' && job.status !== 'running');
    expect(done.status).toBe('succeeded');
    expect(done.expires_at).not.toBeNull();
    // Nothing on the host's disk for others to read: the bytes are chunks in the database.
    expect(existsSync(join(dataDir, 'exports', `${id}.csv`))).toBe(false);
    const [job] = await sql<{ artifact_id: string }>(
      'SELECT artifact_id FROM export_jobs WHERE id = $1',
      [id],
    );
    const artifactId = job!.artifact_id;
    const [stored] = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM artifact_chunks WHERE artifact_id = $1',
      [artifactId],
    );
    expect(stored!.n).toBeGreaterThan(0);
    expect((await download(hub, `/api/v2/exports/${id}/download`)).status).toBe(200);

    // The sweep marks the job expired, then deletes the artifact and its chunks: await both, bounded.
    const left = async () =>
      (
        await sql<{ n: number }>(
          `SELECT ((SELECT count(*) FROM artifacts WHERE id = $1)
                 + (SELECT count(*) FROM artifact_chunks WHERE artifact_id = $1))::int AS n`,
          [artifactId],
        )
      )[0]!.n;
    const expired = await awaitJob(id, (job) => job.status === 'expired', 30_000);
    expect(expired.status).toBe('expired');
    for (let i = 0; i < 300 && (await left()) > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await left()).toBe(0);
    const after = await download(hub, `/api/v2/exports/${id}/download`);
    expect(after.status).toBe(404);
    expect(JSON.parse(after.body!)).toMatchObject({
      error: { code: 'not_found', message: expect.stringContaining('expired') },
    });
  }, 60_000);

  it('frees the slots of jobs whose process died', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO export_jobs (id, workspace_id, form_id, format, status, heartbeat_at, created_at)
         SELECT gen_random_uuid(), $1, $2, 'csv', 'running', now() - interval '10 minutes', now() - interval '10 minutes'
         FROM generate_series(1, 3)`,
        [hub.workspaceId, smallForm],
      );
    } finally {
      await client.end();
    }
    const started = await api('POST', `/forms/${smallForm}/exports`, { format: 'csv' });
    expect(started.status).toBe(202);
    expect(
      (await awaitJob(started.json.id as string, (job) => job.status === 'succeeded')).status,
    ).toBe('succeeded');
  }, 60_000);

  it('refuses a 4th export job at a time in a workspace with 429 and Retry-After', async () => {
    const jobs = [];
    for (let i = 0; i < 3; i++)
      jobs.push(await api('POST', `/forms/${pdfForm}/exports`, { format: 'pdf' }));
    expect(jobs.map((j) => j.status)).toEqual([202, 202, 202]);
    const fourth = await api('POST', `/forms/${smallForm}/exports`, { format: 'csv' });
    // The three PDF jobs take seconds each: if one had finished, the fourth would be fair.
    const states = await Promise.all(
      jobs.map(
        async (j) =>
          ((await api('GET', `/exports/${j.json.id as string}`)).json as unknown as Job).status,
      ),
    );
    expect(states.every((s) => s === 'queued' || s === 'running')).toBe(true);
    expect(fourth.status).toBe(429);
    expect(fourth.json).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 60_000);
});
