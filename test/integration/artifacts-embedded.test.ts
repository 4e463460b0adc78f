import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/artifacts/index.ts';
import { caller, sqlCount } from '../support/erasure.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/receiver.ts';

/**
 * The artifact store on the embedded database (PGlite on its thread): bytea goes both ways
 * through the thread's messages, and an export job's file downloads from the store.
 */
describe('export files in the embedded database', () => {
  let hub: TestHub;
  let ws: { id: string; key: string };

  beforeAll(async () => {
    hub = await startHub({}, { embedded: true });
    ws = await hub.workspace('embedded');
  }, 120_000);
  afterAll(async () => {
    await hub?.close();
  });

  it('round-trips every byte value through PGlite, then sweeps it away', async () => {
    const store = new ArtifactStore({ db: hub.db, chunkSize: 1000 });
    const bytes = Buffer.from(Array.from({ length: 256 * 20 + 3 }, (_, i) => (i * 13) % 256));
    const writer = await store.create({ workspaceId: ws.id, kind: 'test', ttlMs: 60_000 });
    await pipeline(Readable.from([bytes.subarray(0, 2500), bytes.subarray(2500)]), writer);
    const opened = (await store.open(ws.id, writer.id))!;
    expect(opened.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const read: Buffer[] = [];
    for await (const chunk of opened.stream()) read.push(chunk as Buffer);
    expect(Buffer.concat(read).equals(bytes)).toBe(true);
    await store.expire([writer.id]);
    expect(await store.sweep()).toBe(1);
    expect(
      await sqlCount(hub, 'SELECT count(*) AS n FROM artifact_chunks WHERE artifact_id = $1', [
        writer.id,
      ]),
    ).toBe(0);
  });

  it('downloads an export job from the store, equal to the direct export', async () => {
    const call = caller(hub, ws.key);
    const form = await call('POST', '/forms', {
      title: 'Embedded',
      fields: [{ key: 'note', type: 'textarea' }],
    });
    for (let i = 0; i < 20; i++)
      await call('POST', `/forms/${form.id}/responses`, {
        data: { note: `note ${i} ${'x'.repeat(200)}` },
      });
    const { id } = await call('POST', `/forms/${form.id}/exports`, { format: 'ndjson' });
    const job = await eventually(async () => {
      const row = await call<{ status: string }>('GET', `/exports/${id}`);
      return row.status === 'queued' || row.status === 'running' ? undefined : row;
    }, 60_000);
    expect(job.status).toBe('succeeded');
    const download = await hub.request({
      method: 'GET',
      url: `/api/v2/exports/${id}/download`,
      key: ws.key,
    });
    expect(download.statusCode).toBe(200);
    const direct = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${form.id}/export?format=ndjson`,
      key: ws.key,
    });
    expect(download.rawPayload.equals(direct.rawPayload)).toBe(true);
    expect(download.body.trimEnd().split('\n')).toHaveLength(20);
    expect(download.headers.etag).toBe(
      `"${createHash('sha256').update(download.rawPayload).digest('hex')}"`,
    );
  }, 120_000);
});
