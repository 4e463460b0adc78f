import { createHash } from 'node:crypto';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/artifacts/index.ts';
import type { Database, Queryable } from '../../src/db/index.ts';
import { exportRoutes } from '../../src/exports/index.ts';
import { FormService } from '../../src/forms/index.ts';
import { createAuthHooks } from '../../src/http/auth.ts';
import { registerErrorHandler } from '../../src/http/error-handler.ts';
import { ErrorBody } from '../../src/http/schemas.ts';
import { createValidatorCompiler } from '../../src/http/validators.ts';
import { WorkspaceService } from '../../src/workspaces/index.ts';
import { sqlCount } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/receiver.ts';

const MB = 1024 * 1024;

/** `count` blocks of 64 KiB (each different), then optionally an error. */
function blocks(count: number, fail?: Error): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) {
        const block = Buffer.alloc(64 * 1024, i % 251);
        block.writeUInt32BE(i, 0);
        yield block;
      }
      if (fail) throw fail;
    })(),
  );
}

/** Reads of export pages after the first wait for `release` (as in export-progress.test.ts). */
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

/** The artifact store on the real PostgreSQL: streaming in and out, and nothing left behind. */
describe('artifact store', () => {
  let hub: TestHub;
  let ws: { id: string; key: string };
  const left = (id: string) =>
    sqlCount(
      hub,
      `SELECT (SELECT count(*) FROM artifacts WHERE id = $1)
            + (SELECT count(*) FROM artifact_chunks WHERE artifact_id = $1) AS n`,
      [id],
    );

  beforeAll(async () => {
    hub = await startHub();
    ws = await hub.workspace('store');
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('round-trips every byte value across chunk boundaries, with its SHA-256', async () => {
    const store = new ArtifactStore({ db: hub.db, chunkSize: 1000 });
    const bytes = Buffer.from(Array.from({ length: 256 * 40 + 7 }, (_, i) => (i * 7) % 256));
    const writer = await store.create({ workspaceId: ws.id, kind: 'test', ttlMs: 60_000 });
    await pipeline(
      Readable.from([bytes.subarray(0, 3), bytes.subarray(3, 5000), bytes.subarray(5000)]),
      writer,
    );
    expect(writer.stored).toMatchObject({ size: bytes.length, chunks: 11 });
    const opened = (await store.open(ws.id, writer.id))!;
    expect(opened.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const read: Buffer[] = [];
    for await (const chunk of opened.stream()) read.push(chunk as Buffer);
    expect(Buffer.concat(read).equals(bytes)).toBe(true);
  });

  it('deletes what a failed writer wrote, and what a refused one wrote', async () => {
    const store = new ArtifactStore({ db: hub.db, chunkSize: 64 * 1024 });
    const failing = await store.create({ workspaceId: ws.id, kind: 'test', ttlMs: 60_000 });
    await expect(pipeline(blocks(10, new Error('the export broke')), failing)).rejects.toThrow(
      'the export broke',
    );
    await failing.settled();
    expect(await left(failing.id)).toBe(0);

    const refused = await store.create({
      workspaceId: ws.id,
      kind: 'test',
      ttlMs: 60_000,
      onComplete: async () => false,
    });
    await pipeline(blocks(10), refused);
    await refused.settled();
    expect(refused.stored).toBeUndefined();
    expect(await left(refused.id)).toBe(0);
  });

  it('refuses to seal an artifact that lost a chunk, and deletes the rest', async () => {
    const store = new ArtifactStore({ db: hub.db, chunkSize: 64 * 1024 });
    const writer = await store.create({ workspaceId: ws.id, kind: 'test', ttlMs: 60_000 });
    const chunk0 = () =>
      sqlCount(
        hub,
        'SELECT count(*) AS n FROM artifact_chunks WHERE artifact_id = $1 AND seq = 0',
        [writer.id],
      );
    async function* lossy() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(64 * 1024, i);
      // As if the database had lost a committed chunk (a crash before the WAL flush).
      await eventually(async () => ((await chunk0()) === 1 ? true : undefined));
      await hub.db.query('DELETE FROM artifact_chunks WHERE artifact_id = $1 AND seq = 0', [
        writer.id,
      ]);
    }
    await expect(pipeline(Readable.from(lossy()), writer)).rejects.toThrow(/holds 3 chunks/);
    await writer.settled();
    expect(writer.stored).toBeUndefined();
    expect(await left(writer.id)).toBe(0);
  });

  it('leaves no chunks of a job cancelled mid-way (its API process stops)', async () => {
    let open!: () => void;
    const release = new Promise<void>((resolve) => (open = resolve));
    const app: FastifyInstance = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
    try {
      app.setValidatorCompiler(createValidatorCompiler());
      registerErrorHandler(app);
      app.addSchema(ErrorBody);
      const workspaces = new WorkspaceService(hub.db, hub.config.adminKey);
      await app.register(exportRoutes, {
        prefix: '/api/v2',
        db: gatedDb(hub.db, release),
        forms: new FormService(hub.db),
        auth: createAuthHooks((k) => workspaces.authenticate(k)),
        dataDir: hub.config.dataDir,
        // Small chunks: the first page (1,000 rows) fills several before the gate.
        artifacts: new ArtifactStore({ db: hub.db, chunkSize: 8 * 1024 }),
      });
      await app.ready();
      const form = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key: ws.key,
        payload: { title: 'Cancelled', fields: [{ key: 'n', type: 'integer' }] },
      });
      const formId = (form.json() as { id: string }).id;
      await hub.db.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
         SELECT gen_random_uuid(), $1, $2, 1, jsonb_build_object('n', i), true, timestamptz '2025-01-01' + i * interval '1 second', now()
         FROM generate_series(1, 3000) AS i`,
        [ws.id, formId],
      );
      const started = await app.inject({
        method: 'POST',
        url: `/api/v2/forms/${formId}/exports`,
        headers: { authorization: `Bearer ${ws.key}` },
        payload: { format: 'csv' },
      });
      expect(started.statusCode, started.body).toBe(202);
      const jobId = (started.json() as { id: string }).id;
      // The job holds at page two with chunks of page one written.
      const artifactId = await eventually(async () => {
        const { rows } = await hub.db.query<{ artifact_id: string | null }>(
          'SELECT artifact_id FROM export_jobs WHERE id = $1',
          [jobId],
        );
        const id = rows[0]?.artifact_id;
        return id && (await left(id)) > 2 ? id : undefined;
      });
      await app.close(); // the API process stops: its running jobs are cancelled
      open();
      const { rows } = await hub.db.query<{ status: string; error: string }>(
        'SELECT status, error FROM export_jobs WHERE id = $1',
        [jobId],
      );
      expect(rows[0]).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('stopped'),
      });
      expect(await left(artifactId)).toBe(0);
    } finally {
      open();
      await app.close();
    }
  }, 60_000);

  it('writes and downloads 200 MB over HTTP with flat memory on both sides', async () => {
    const store = hub.services.artifacts;
    const total = 200 * MB;
    let peak = 0;
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));

    // Writing: 200 MB streamed in, memory sampled as every block goes by.
    const beforeWrite = process.memoryUsage().rss;
    peak = beforeWrite;
    const writer = await store.create({ workspaceId: ws.id, kind: 'export', ttlMs: 600_000 });
    const source = blocks(total / (64 * 1024));
    source.on('data', sample);
    await pipeline(source, writer);
    const writeGrowth = peak - beforeWrite;
    expect(writer.stored?.size).toBe(total);

    // Reading: the hub's download route over a real socket, memory sampled per chunk received.
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: { title: 'Big', fields: [{ key: 'n', type: 'integer' }] },
    });
    const jobId = '01900000-0000-7000-8000-0000000b1900';
    await hub.db.query(
      `INSERT INTO export_jobs (id, workspace_id, form_id, format, status, progress, artifact_id, file_name, size,
         heartbeat_at, finished_at, expires_at)
       VALUES ($1, $2, $3, 'csv', 'succeeded', 100, $4, 'big.csv', $5, now(), now(), now() + interval '1 hour')`,
      [jobId, ws.id, (form.json() as { id: string }).id, writer.id, total],
    );
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = hub.app.server.address() as AddressInfo;
    const beforeRead = process.memoryUsage().rss;
    peak = beforeRead;
    const hash = createHash('sha256');
    const received = await new Promise<{
      status: number;
      bytes: number;
      length: string | undefined;
    }>((resolve, reject) => {
      get(
        {
          host: '127.0.0.1',
          port,
          path: `/api/v2/exports/${jobId}/download`,
          headers: { authorization: `Bearer ${ws.key}` },
        },
        (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            hash.update(chunk);
            sample();
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, bytes, length: res.headers['content-length'] }),
          );
          res.on('error', reject);
        },
      ).on('error', reject);
    });
    const readGrowth = peak - beforeRead;
    expect(received).toEqual({ status: 200, bytes: total, length: String(total) });
    expect(hash.digest('hex')).toBe(writer.stored?.sha256);
    console.log(
      `200 MB artifact: RSS growth writing ${(writeGrowth / MB).toFixed(1)} MB, reading ${(readGrowth / MB).toFixed(1)} MB`,
    );
    expect(writeGrowth).toBeLessThan(100 * MB);
    expect(readGrowth).toBeLessThan(100 * MB);
    await store.expire([writer.id]);
    await store.sweep();
    expect(await left(writer.id)).toBe(0);
  }, 300_000);
});
