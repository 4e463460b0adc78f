/**
 * Hostile imports (DESIGN.md 3a): one row at most 1 MiB, read without buffering past it
 * (a single 560 MiB NDJSON row took the hub to 1.8 GB and a 500), and at most 2 imports at
 * a time per workspace. Bodies are streamed over real HTTP, as a client would send them.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api.ts';
import { startHub, type TestHub } from '../support/hub.ts';
import { watchEventLoop, whileWatching } from './loop-watch.ts';

const STALL_MS = 500;
const MIB = 1024 * 1024;
const ROW = (name: string) =>
  `${JSON.stringify({ data: { name }, submitted_at: '2024-01-01T00:00:00Z' })}\n`;

/** An import whose body the test writes piece by piece. */
interface OpenImport {
  req: ClientRequest;
  /** The answer: status and parsed body. */
  answer: Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>;
  write(text: string): Promise<void>;
}

describe('hostile input: imports', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  let base: URL;

  beforeAll(async () => {
    hub = await startHub();
    key = (await hub.workspace('imports')).key;
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Imported', fields: [{ key: 'name', type: 'text' }] },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id as string;
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = new URL(`http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await hub?.close();
  });

  function openImport(): OpenImport {
    const req = request(new URL(`/api/v2/forms/${formId}/responses/import`, base), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
    });
    const answer = new Promise<{
      status: number;
      body: string;
      headers: IncomingMessage['headers'];
    }>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    answer.catch(() => undefined); // awaited by the test; an abort it causes is expected
    const write = (text: string) =>
      new Promise<void>((resolve, reject) =>
        req.write(text, (error) => (error ? reject(error) : resolve())),
      );
    return { req, answer, write };
  }

  /** Advisory locks granted in this test's database: the import slots taken. */
  async function slotsTaken(): Promise<number> {
    const { rows } = await hub.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return Number(rows[0]?.n);
  }

  /** Waits (query by query, no timers) until `count` slots are taken. */
  async function untilSlots(count: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await slotsTaken()) !== count && Date.now() < deadline);
    expect(await slotsTaken()).toBe(count);
  }

  it('refuses a 50 MiB row once it passes 1 MiB: 422 naming the line, memory flat, no stall', async () => {
    const upload = openImport();
    const chunk = 'x'.repeat(64 * 1024);
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    let sent = 0;
    let answered = false;
    void upload.answer.then(
      () => (answered = true),
      () => (answered = true),
    );
    const { result, stallMs } = await whileWatching(watchEventLoop(), async () => {
      await upload.write(ROW('first'));
      await upload.write('{"data":{"name":"');
      // 50 MiB in one line, unless the hub answers first (it stops reading at 1 MiB).
      while (!answered && sent < 50 * MIB) {
        const drained = upload.req.write(chunk);
        sent += chunk.length;
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        if (!drained)
          await Promise.race([new Promise((r) => upload.req.once('drain', r)), upload.answer]);
      }
      const answer = await upload.answer;
      upload.req.destroy();
      return answer;
    });
    expect(result.status, result.body).toBe(422);
    const body = JSON.parse(result.body) as {
      error: { code: string; details: { field: string; message: string }[] };
    };
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details).toEqual([
      {
        field: '[1]',
        message: 'row 1 (line 2) is larger than 1048576 bytes (1 MiB), the most a row may be',
      },
    ]);
    expect(sent).toBeLessThan(50 * MIB); // answered before the client was done
    expect(heapPeak - heapBefore).toBeLessThan(48 * MIB);
    expect(stallMs).toBeLessThan(STALL_MS);
    await untilSlots(0);
    const { rows } = await hub.db.query('SELECT id FROM responses WHERE form_id = $1', [formId]);
    expect(rows).toEqual([]);
  }, 120_000);

  it('refuses a row over 1 MiB in a JSON array too, naming the row', async () => {
    const big = JSON.stringify([
      { data: { name: 'x'.repeat(MIB) }, submitted_at: '2024-01-01T00:00:00Z' },
    ]);
    const res = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(expectError(res, 422, 'validation_failed')).toEqual([
      {
        field: '[0]',
        message: 'row 0 is larger than 1048576 bytes (1 MiB), the most a row may be',
      },
    ]);
  });

  it('runs at most 2 imports at a time per workspace: the third gets 429, slots come back', async () => {
    const first = openImport();
    const second = openImport();
    await first.write(ROW('a'));
    await second.write(ROW('b'));
    await untilSlots(2);
    const third = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ROW('c'),
    });
    expectError(third, 429, 'rate_limited');
    expect(third.headers['retry-after']).toBe('10');
    for (const open of [first, second]) {
      await open.write(ROW('more'));
      open.req.end();
      const answer = await open.answer;
      expect(answer.status, answer.body).toBe(201);
      expect(JSON.parse(answer.body)).toEqual({ imported: 2 });
    }
    await untilSlots(0);
    const fourth = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ROW('d'),
    });
    expect(fourth.statusCode, fourth.body).toBe(201);
  }, 60_000);

  it('gives the slot back when the client aborts mid-import', async () => {
    const open = openImport();
    await open.write(ROW('a'));
    await untilSlots(1);
    open.req.destroy();
    await expect(open.answer).rejects.toThrow();
    await untilSlots(0);
  }, 60_000);
});
