import type { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/index.ts';
import { ExportThreadPool } from '../../src/exports/export-thread-pool.ts';
import { FormService, type FormRow } from '../../src/forms/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const ROWS = 20_000;

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Exports on export threads (src/exports/export-thread-pool.ts), against the real
 * PostgreSQL: the thread reads on a connection of its own, the main thread gets the bytes.
 * What must hold across the thread boundary: backpressure down to the queries, errors with
 * their code and status, progress per page, and cancellation that frees the thread.
 */
describe('export threads', () => {
  let hub: TestHub;
  let form: FormRow;
  let pool: ExportThreadPool;

  beforeAll(async () => {
    hub = await startHub();
    const ws = await hub.workspace();
    const created = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: {
        title: 'Threads',
        fields: [
          { key: 'note', type: 'textarea' },
          { key: 'n', type: 'integer' },
        ],
      },
    });
    form = await new FormService(hub.db).get(ws.id, (created.json() as { id: string }).id);
    await hub.db.query(
      `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
       SELECT gen_random_uuid(), $1, $2, 1, jsonb_build_object('note', repeat('x', 500), 'n', i), true,
         timestamptz '2025-01-01' + i * interval '1 second', now()
       FROM generate_series(1, $3) AS i`,
      [ws.id, form.id, ROWS],
    );
    pool = new ExportThreadPool({ databaseUrl: hub.config.database.url!, pdf: false, max: 1 });
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await hub?.close();
  });

  it('stops the queries while the reader pauses, and reports progress per page', async () => {
    let pages = 0;
    const body = await pool.export(form, { format: 'csv' }, { onPage: () => void pages++ });
    const chunks = body[Symbol.asyncIterator]();
    const first = (await chunks.next()) as IteratorResult<Buffer>;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const whilePaused = pages;
    const rest: Buffer[] = [first.value];
    for (let step = await chunks.next(); !step.done; step = await chunks.next())
      rest.push(step.value as Buffer);
    // One page in the thread's body buffer, one in the main side's: far from all ~40.
    expect(whilePaused).toBeLessThan(ROWS / 1000);
    const records = parse(Buffer.concat(rest), { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(ROWS);
    expect(records[0]!.n).toBe(String(ROWS));
    expect(pages).toBeGreaterThanOrEqual(ROWS / 1000 + 1);
  }, 60_000);

  it('renders PDFs on the threads, at most MAX_PDF_EXPORTS at a time', async () => {
    const pdfs = new ExportThreadPool({ databaseUrl: hub.config.database.url!, pdf: true });
    try {
      const params = { format: 'pdf' as const, until: '2025-01-01T00:00:20Z' };
      // Three threads started, each having rendered a PDF once: a third PDF is not held up by
      // a thread starting or loading the renderer, only by the limit.
      const small = { format: 'csv' as const, until: '2025-01-01T00:00:20Z' };
      const warm = await Promise.all([1, 2, 3].map(() => pdfs.export(form, small)));
      await Promise.all(warm.map(readAll));
      for (let i = 0; i < 3; i++) await readAll(await pdfs.export(form, params));
      const first = await pdfs.export(form, params);
      const second = await pdfs.export(form, params);
      let third: Readable | undefined;
      const waiting = pdfs.export(form, params).then((body) => (third = body));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(third).toBeUndefined();
      const pdf = await readAll(first);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      await waiting;
      expect((await readAll(third!)).subarray(0, 5).toString()).toBe('%PDF-');
      await readAll(second);
    } finally {
      await pdfs.close();
    }
  }, 60_000);

  it('rejects with the AppError of the thread, code and status kept', async () => {
    const error = await pool
      .export(form, { format: 'csv', fields: 'nope' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('fails a page past QUERY_TIMEOUT with 503 query_timeout', async () => {
    const strict = new ExportThreadPool({
      databaseUrl: hub.config.database.url!,
      pdf: false,
      queryTimeoutMs: 1,
    });
    try {
      const body = await strict.export(form, { format: 'ndjson' });
      const error = await readAll(body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'query_timeout', status: 503 });
    } finally {
      await strict.close();
    }
  }, 60_000);

  it('stops reading when the reader leaves, and frees the thread for the next export', async () => {
    let pages = 0;
    const body = await pool.export(form, { format: 'csv' }, { onPage: () => void pages++ });
    await body[Symbol.asyncIterator]().next();
    body.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterLeaving = pages;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pages).toBe(afterLeaving);
    expect(pages).toBeLessThan(ROWS / 1000);
    // The pool has one thread: the next export runs on it, to the end.
    const next = await readAll(
      await pool.export(form, { format: 'ndjson', until: '2025-01-01T00:00:10Z' }),
    );
    expect(next.toString().trim().split('\n')).toHaveLength(10);
  }, 60_000);
});
