import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, finishedErasure, sqlCount } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/receiver.ts';
import { startSecondHost, type SecondHost } from '../support/second-host.ts';

/** About 1.5 MB of CSV: several 512 KiB chunks. */
const ROWS = 4_000;

interface Job {
  id: string;
  status: string;
  size: number | null;
  expires_at: string | null;
  download_url: string | null;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Export job files in PostgreSQL (src/artifacts, DESIGN.md section 4c): two API hosts of one
 * cluster (two hubs and apps on one database, each with its own DATA_DIR), a worker for the
 * erasures, real PostgreSQL and Redis.
 */
describe('export files in PostgreSQL, served by any API host', () => {
  let a: TestHub;
  let b: SecondHost;
  let ws: { id: string; key: string };
  let other: { id: string; key: string };
  let formId: string;

  const leftOf = (artifactId: string) =>
    sqlCount(
      a,
      `SELECT (SELECT count(*) FROM artifacts WHERE id = $1)
            + (SELECT count(*) FROM artifact_chunks WHERE artifact_id = $1) AS n`,
      [artifactId],
    );
  const artifactOf = async (jobId: string) =>
    (
      await a.db.query<{ artifact_id: string }>(
        'SELECT artifact_id FROM export_jobs WHERE id = $1',
        [jobId],
      )
    ).rows[0]!.artifact_id;

  /** Starts a job through `host` and waits (bounded) until it has ended. */
  const exportJob = async (host: { request: TestHub['request'] }, format = 'csv') => {
    const started = await host.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/exports`,
      key: ws.key,
      payload: { format },
    });
    expect(started.statusCode, started.body).toBe(202);
    const { id } = started.json() as { id: string };
    return eventually(async () => {
      const job = (
        await host.request({ method: 'GET', url: `/api/v2/exports/${id}`, key: ws.key })
      ).json() as Job;
      return job.status === 'queued' || job.status === 'running' ? undefined : job;
    }, 60_000);
  };

  beforeAll(async () => {
    a = await startHub({}, { worker: true });
    b = await startSecondHost(a);
    ws = await a.workspace('artifacts');
    other = await a.workspace('other');
    const form = await caller(a, ws.key)('POST', '/forms', {
      title: 'Wide',
      fields: [
        { key: 'note', type: 'textarea' },
        { key: 'n', type: 'integer' },
      ],
    });
    formId = form.id;
    await a.db.query(
      `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
       SELECT gen_random_uuid(), $1, $2, 1, jsonb_build_object('note', repeat(md5(i::text), 10), 'n', i), true,
         timestamptz '2025-01-01' + i * interval '1 second', now()
       FROM generate_series(1, $3) AS i`,
      [ws.id, formId, ROWS],
    );
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('serves a job made by one host from another, with the same bytes and headers', async () => {
    const job = await exportJob(a);
    expect(job).toMatchObject({
      status: 'succeeded',
      download_url: `/api/v2/exports/${job.id}/download`,
    });
    // Nothing on the first host's disk: the bytes are chunks in PostgreSQL.
    const dir = join(a.config.dataDir, 'exports');
    expect(existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(job.id)) : []).toEqual([]);
    const artifactId = await artifactOf(job.id);
    expect(
      await sqlCount(a, 'SELECT count(*) AS n FROM artifact_chunks WHERE artifact_id = $1', [
        artifactId,
      ]),
    ).toBeGreaterThan(2);

    const viaB = await b.request({
      method: 'GET',
      url: `/api/v2/exports/${job.id}/download`,
      key: ws.key,
    });
    expect(viaB.statusCode, viaB.body).toBe(200);
    const direct = await a.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/export?format=csv`,
      key: ws.key,
    });
    expect(viaB.rawPayload.equals(direct.rawPayload)).toBe(true);
    expect(viaB.body.trimEnd().split('\r\n')).toHaveLength(ROWS + 1);
    expect(viaB.headers['content-type']).toBe(direct.headers['content-type']);
    expect(viaB.headers['content-disposition']).toMatch(
      /^attachment; filename="wide-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(viaB.headers['content-length']).toBe(String(viaB.rawPayload.length));
    expect(job.size).toBe(viaB.rawPayload.length);
    expect(viaB.headers.etag).toBe(`"${sha256(viaB.rawPayload)}"`);
    const viaA = await a.request({
      method: 'GET',
      url: `/api/v2/exports/${job.id}/download`,
      key: ws.key,
    });
    expect(viaA.rawPayload.equals(viaB.rawPayload)).toBe(true);
  }, 60_000);

  it("answers 404 for another workspace's job and file, on either host", async () => {
    const job = await exportJob(b);
    for (const host of [a, b]) {
      for (const url of [`/api/v2/exports/${job.id}`, `/api/v2/exports/${job.id}/download`]) {
        const res = await host.request({ method: 'GET', url, key: other.key });
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
      }
    }
    // Even given the artifact's id, the store answers nothing for another workspace.
    const artifactId = await artifactOf(job.id);
    expect(await a.services.artifacts.open(other.id, artifactId)).toBeUndefined();
    expect(await a.services.artifacts.open(ws.id, artifactId)).toBeDefined();
  }, 60_000);

  it('deletes the file and its chunks after EXPORT_TTL, from any host', async () => {
    // A third host with EXPORT_TTL = 2 s makes the job; the second host's sweep may delete it as well.
    const short = await startSecondHost(a, { exportTtlMs: 2_000 });
    try {
      const job = await exportJob(short);
      expect(job.status).toBe('succeeded');
      const artifactId = await artifactOf(job.id);
      expect(await leftOf(artifactId)).toBeGreaterThan(1);
      const fresh = await b.request({
        method: 'GET',
        url: `/api/v2/exports/${job.id}/download`,
        key: ws.key,
      });
      expect(fresh.statusCode).toBe(200);
      await eventually(async () => ((await leftOf(artifactId)) === 0 ? true : undefined), 30_000);
      const gone = await b.request({
        method: 'GET',
        url: `/api/v2/exports/${job.id}/download`,
        key: ws.key,
      });
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toMatchObject({
        error: { code: 'not_found', message: expect.stringContaining('expired') },
      });
      const status = await a.request({
        method: 'GET',
        url: `/api/v2/exports/${job.id}`,
        key: ws.key,
      });
      expect(status.json()).toMatchObject({ status: 'expired', download_url: null });
    } finally {
      await short.close();
    }
  }, 60_000);

  it("deletes a form's files and their chunks when an erasure removes its responses", async () => {
    const job = await exportJob(b);
    const artifactId = await artifactOf(job.id);
    expect(await leftOf(artifactId)).toBeGreaterThan(1);
    // A job of the form still running on some host, one chunk written so far.
    const running = '01900000-0000-7000-8000-0000000a0e01';
    const partial = await a.services.artifacts.create({
      workspaceId: ws.id,
      kind: 'export',
      ttlMs: 60_000,
    });
    await new Promise<void>((resolve, reject) =>
      partial.write(Buffer.alloc(a.services.artifacts.chunkSize * 2, 1), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await eventually(async () => ((await leftOf(partial.id)) >= 2 ? true : undefined));
    await a.db.query(
      `INSERT INTO export_jobs (id, workspace_id, form_id, format, status, artifact_id, heartbeat_at)
       VALUES ($1, $2, $3, 'csv', 'running', $4, now())`,
      [running, ws.id, formId, partial.id],
    );
    const posted = await a.request({
      method: 'POST',
      url: '/api/v2/erasures',
      key: ws.key,
      payload: { form_id: formId, match: { 'data.n': { $eq: 1 } } },
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const erasure = await finishedErasure(a, ws.key, (posted.json() as { id: string }).id);
    expect(erasure.status).toBe('succeeded');
    expect(erasure.counts.export_files).toBeGreaterThanOrEqual(1);
    expect(await leftOf(artifactId)).toBe(0);
    const res = await b.request({
      method: 'GET',
      url: `/api/v2/exports/${job.id}/download`,
      key: ws.key,
    });
    expect(res.statusCode).toBe(404);
    // The running job is failed, its chunks are gone, and its writer can no longer seal.
    expect(await leftOf(partial.id)).toBe(0);
    const { rows } = await a.db.query<{ status: string }>(
      'SELECT status FROM export_jobs WHERE id = $1',
      [running],
    );
    expect(rows[0]!.status).toBe('failed');
    const failed = new Promise<Error>((resolve) => partial.once('error', resolve));
    partial.end();
    expect((await failed).message).toMatch(/holds 0 chunks/);
    await partial.settled();
    expect(partial.stored).toBeUndefined();
  }, 60_000);

  it("moves a job's file from the old exports folder into the store, leaving others' for their host", async () => {
    // Two jobs made before the store: one file on the disk of the host about to start, one
    // on a disk it does not have.
    const ids = ['01900000-0000-7000-8000-0000000a0001', '01900000-0000-7000-8000-0000000a0002'];
    const dataDir = mkdtempSync(join(tmpdir(), 'formhub-legacy-host-'));
    mkdirSync(join(dataDir, 'exports'), { mode: 0o700 });
    const here = join(dataDir, 'exports', `${ids[0]}.csv`);
    const elsewhere = join(tmpdir(), 'formhub-elsewhere', `${ids[1]}.csv`);
    const bytes = Buffer.from(Array.from({ length: 50_000 }, (_, i) => `row ${i}\r\n`).join(''));
    writeFileSync(here, bytes, { mode: 0o600 });
    for (const [id, path] of [
      [ids[0], here],
      [ids[1], elsewhere],
    ] as const)
      await a.db.query(
        `INSERT INTO export_jobs (id, workspace_id, form_id, format, status, progress, file_path, file_name, size,
           heartbeat_at, finished_at, expires_at)
         VALUES ($1, $2, $3, 'csv', 'succeeded', 100, $4, 'old.csv', $5, now(), now(), now() + interval '1 hour')`,
        [id, ws.id, formId, path, bytes.length],
      );
    // (Both hosts of this test share one disk, so no download before the move is checked:
    // on one machine any host would find the file, as before the store.)
    const legacy = await startSecondHost(a, { dataDir }); // its sweep runs at start
    try {
      const moved = await eventually(async () => {
        const { rows } = await a.db.query<{ artifact_id: string | null; file_path: string | null }>(
          'SELECT artifact_id, file_path FROM export_jobs WHERE id = $1',
          [ids[0]],
        );
        return rows[0]!.artifact_id ? rows[0]! : undefined;
      }, 30_000);
      expect(moved.file_path).toBeNull();
      expect(existsSync(here)).toBe(false);
      const res = await b.request({
        method: 'GET',
        url: `/api/v2/exports/${ids[0]}/download`,
        key: ws.key,
      });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(bytes)).toBe(true);
      expect(res.headers.etag).toBe(`"${sha256(bytes)}"`);
      // Its expiry is kept (to the millisecond: JavaScript's precision): it expires with the job.
      const { rows } = await a.db.query<{ same: boolean }>(
        `SELECT abs(extract(epoch FROM a.expires_at - j.expires_at)) < 0.001 AS same FROM export_jobs j JOIN artifacts a ON a.id = j.artifact_id WHERE j.id = $1`,
        [ids[0]],
      );
      expect(rows[0]!.same).toBe(true);
      // The other job's file is not on this host: left for the host that has it.
      const { rows: left } = await a.db.query<{
        artifact_id: string | null;
        file_path: string | null;
      }>('SELECT artifact_id, file_path FROM export_jobs WHERE id = $1', [ids[1]]);
      expect(left[0]).toEqual({ artifact_id: null, file_path: elsewhere });
      const missing = await b.request({
        method: 'GET',
        url: `/api/v2/exports/${ids[1]}/download`,
        key: ws.key,
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({
        error: { code: 'not_found', message: expect.stringContaining('export file') },
      });
    } finally {
      await legacy.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
