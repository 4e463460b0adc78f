import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportRoutes,
  XLSX_PAGE_SIZE,
  type PdfExportInput,
  type RenderPdf,
} from '../../src/exports/index.ts';
import { FormService } from '../../src/forms/index.ts';
import { createAuthHooks } from '../../src/http/auth.ts';
import { registerErrorHandler } from '../../src/http/error-handler.ts';
import { ErrorBody } from '../../src/http/schemas.ts';
import { createValidatorCompiler } from '../../src/http/validators.ts';
import type { Database, Queryable } from '../../src/db/index.ts';
import { WorkspaceService } from '../../src/workspaces/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

const FORM = {
  title: 'Kundenumfrage Müller',
  fields: [
    { key: 'name', type: 'text' },
    { key: 'age', type: 'integer' },
    { key: 'likes', type: 'multiselect', options: ['a', 'b', 'c'] },
    { key: 'ok', type: 'boolean' },
    { key: 'born', type: 'date' },
    { key: 'seen', type: 'datetime' },
  ],
  calculated_fields: [{ key: 'double', logic: { '*': [{ var: 'data.age' }, 2] } }],
};

const TRICKY = [
  'comma, here',
  'quote "q"',
  'multi\nline',
  'crlf\r\ninside',
  '=HYPERLINK("http://x")',
  'Ünïcödé 日本語 🎉',
  '+1',
  '-2',
  '@cmd',
  '\ttab',
];

interface ResponseJson {
  id: string;
  data: Record<string, unknown>;
  submitted_at: string;
  completed: boolean;
}

/** Counts the queries that read response pages, to see how far ahead of the reader they run. */
function countingDb(db: Database, counter: { pages: number }): Database {
  const reader: Queryable = {
    query: (sql, params) => {
      if (sql.includes('cursor_at')) counter.pages++;
      return db.reader.query(sql, params);
    },
  };
  return Object.assign(Object.create(db) as Database, {
    reader,
    query: db.query.bind(db),
    transaction: db.transaction.bind(db),
  });
}

async function exportApp(
  hub: TestHub,
  db: Database,
  dataDir: string,
  renderPdf?: RenderPdf,
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandler(app);
  app.addSchema(ErrorBody);
  const workspaces = new WorkspaceService(hub.db, hub.config.adminKey);
  const auth = createAuthHooks((key) => workspaces.authenticate(key));
  await app.register(exportRoutes, {
    prefix: '/api/v2',
    db,
    forms: new FormService(hub.db),
    auth,
    dataDir,
    renderPdf,
  });
  await app.ready();
  return app;
}

describe('exports', () => {
  let hub: TestHub;
  let app: FastifyInstance;
  let pdfApp: FastifyInstance;
  let dataDir: string;
  let ws: { id: string; key: string };
  let other: { id: string; key: string };
  let formId: string;
  let deletedId: string;
  const pdfInputs: PdfExportInput[] = [];

  const get = (url: string, key = ws.key, target = app) =>
    target.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${key}` },
    } as InjectOptions);
  const exportUrl = (query: string) => `/api/v2/forms/${formId}/export?${query}`;

  beforeAll(async () => {
    hub = await startHub();
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-exports-'));
    app = await exportApp(hub, hub.db, dataDir);
    const renderPdf: RenderPdf = async (input) => {
      pdfInputs.push(input);
      const lines: string[] = [];
      for await (const r of input.responses) lines.push(r.id);
      return Readable.from([`%PDF-fake ${lines.length}`]);
    };
    pdfApp = await exportApp(hub, hub.db, dataDir, renderPdf);
    ws = await hub.workspace('exports');
    other = await hub.workspace('other');
    const created = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: ws.key,
      payload: FORM,
    });
    expect(created.statusCode, created.body).toBe(201);
    formId = (created.json() as { id: string }).id;
    const rows = TRICKY.map((name, i) => ({
      data: {
        name,
        age: i,
        likes: i % 2 ? ['a', 'c'] : ['b'],
        ok: i % 2 === 0,
        born: `1990-01-${String(i + 1).padStart(2, '0')}`,
        seen: `2024-05-01T10:0${i}:00Z`,
      },
      submitted_at: `2025-01-${String(i + 1).padStart(2, '0')}T12:00:00Z`,
    }));
    const imported = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses/import`,
      key: ws.key,
      payload: rows,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const gone = await hub.request({
      method: 'POST',
      url: `/api/v2/forms/${formId}/responses`,
      key: ws.key,
      payload: { data: { name: 'to delete' } },
    });
    deletedId = (gone.json() as { id: string }).id;
    expect(
      (await hub.request({ method: 'DELETE', url: `/api/v2/responses/${deletedId}`, key: ws.key }))
        .statusCode,
    ).toBe(204);
  });

  afterAll(async () => {
    await app?.close();
    await pdfApp?.close();
    await hub?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports CSV that round-trips tricky values through csv-parse', async () => {
    const res = await get(exportUrl('format=csv&bom=true'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const day = new Date().toISOString().slice(0, 10);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="kundenumfrage-muller-${day}.csv"; filename*=UTF-8''kundenumfrage-m%C3%BCller-${day}.csv`,
    );
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(res.body).toContain('\r\n');
    const records = parse(res.body, { bom: true, columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0]!)).toEqual([
      'id',
      'submitted_at',
      'completed',
      'name',
      'age',
      'likes',
      'ok',
      'born',
      'seen',
      'double',
    ]);
    expect(records).toHaveLength(TRICKY.length);
    // Newest first: the last imported row comes first.
    const byAge = new Map(records.map((r) => [Number(r.age), r]));
    TRICKY.forEach((name, i) => {
      const r = byAge.get(i)!;
      expect(r.name).toBe(/^[=+\-@\t\r]/.test(name) ? `'${name}` : name);
      expect(r.likes).toBe(i % 2 ? 'a; c' : 'b');
      expect(r.ok).toBe(String(i % 2 === 0));
      expect(r.double).toBe(String(i * 2));
      expect(r.completed).toBe('true');
      expect(r.submitted_at).toBe(`2025-01-${String(i + 1).padStart(2, '0')}T12:00:00.000Z`);
    });
    expect(records.map((r) => Number(r.age))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(res.body).not.toContain(deletedId);
  });

  it('exports XLSX with typed cells and a header row', async () => {
    const res = await get(exportUrl('format=xlsx'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Responses')!;
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual([
      'id',
      'submitted_at',
      'completed',
      'name',
      'age',
      'likes',
      'ok',
      'born',
      'seen',
      'double',
    ]);
    expect(sheet.rowCount).toBe(TRICKY.length + 1);
    const row = sheet.getRow(2).values as unknown[]; // newest: age 9
    expect(row[2]).toEqual(new Date('2025-01-10T12:00:00Z'));
    expect(row[3]).toBe(true);
    expect(row[4]).toBe(TRICKY[9]);
    expect(row[5]).toBe(9);
    expect(row[6]).toBe('a; c');
    expect(row[7]).toBe(false);
    expect(row[8]).toEqual(new Date('1990-01-10T00:00:00Z'));
    expect(row[9]).toEqual(new Date('2024-05-01T10:09:00Z'));
    expect(row[10]).toBe(18);
    expect(sheet.getRow(2).getCell(8).numFmt).toBe('yyyy-mm-dd');
  });

  it('exports JSON and NDJSON as the listing shows responses', async () => {
    const listing = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/responses?limit=100`,
      key: ws.key,
    });
    const expected = (listing.json() as { data: ResponseJson[] }).data;
    const json = await get(exportUrl('format=json'));
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.json()).toEqual(expected);
    const ndjson = await get(exportUrl('format=ndjson'));
    expect(ndjson.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = ndjson.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ResponseJson);
    expect(lines).toEqual(expected);
  });

  it('exports an empty JSON array when nothing matches', async () => {
    const res = await get(exportUrl(`format=json&since=2030-01-01`));
    expect(res.json()).toEqual([]);
  });

  it('respects fields=, filter=, since and until', async () => {
    const filter = encodeURIComponent(JSON.stringify({ 'data.age': { $gte: 3 } }));
    const res = await get(
      exportUrl(`format=csv&fields=double,name&filter=${filter}&since=2025-01-02&until=2025-01-08`),
    );
    expect(res.statusCode, res.body).toBe(200);
    const records = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0]!)).toEqual(['id', 'submitted_at', 'completed', 'double', 'name']);
    expect(records.map((r) => r.double)).toEqual(['14', '12', '10', '8', '6']);
    const json = await get(exportUrl(`format=json&fields=age&until=2025-01-01`));
    expect((json.json() as ResponseJson[]).map((r) => r.data)).toEqual([{ age: 0 }]);
  });

  it('refuses bad parameters with the JSON error shape before streaming', async () => {
    const cases: [string, number, string][] = [
      ['format=docx', 400, 'invalid_request'],
      ['format=csv&fields=nope', 400, 'invalid_request'],
      ['format=csv&filter=%7Bbad', 400, 'invalid_request'],
      [`format=csv&filter=${encodeURIComponent('{"data.nope":1}')}`, 400, 'invalid_request'],
      ['format=csv&since=yesterday', 400, 'invalid_request'],
      ['format=pdf', 422, 'validation_failed'],
    ];
    for (const [query, status, code] of cases) {
      const res = await get(exportUrl(query));
      expect(res.statusCode, query).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect((res.json() as { error: { code: string } }).error.code, query).toBe(code);
    }
    expect((await get(exportUrl('format=pdf'))).json()).toMatchObject({
      error: { message: 'pdf export not available' },
    });
    expect((await get(exportUrl('format=csv'), other.key)).statusCode).toBe(404);
    expect((await get(`/api/v2/forms/not-a-uuid/export?format=csv`)).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: exportUrl('format=csv') })).statusCode).toBe(
      401,
    );
  });

  it('hands pdf exports to the injected renderer', async () => {
    const res = await get(exportUrl('format=pdf&fields=name'), ws.key, pdfApp);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.body).toBe(`%PDF-fake ${TRICKY.length}`);
    expect(pdfInputs.at(-1)!.columns.map((c) => c.key)).toEqual([
      'id',
      'submitted_at',
      'completed',
      'name',
    ]);
  });

  describe('export jobs', () => {
    const post = (payload: object, key = ws.key, target = app) =>
      target.inject({
        method: 'POST',
        url: `/api/v2/forms/${formId}/exports`,
        headers: { authorization: `Bearer ${key}` },
        payload,
      });

    async function finished(id: string, target = app): Promise<Record<string, unknown>> {
      for (let i = 0; i < 200; i++) {
        const res = await get(`/api/v2/exports/${id}`, ws.key, target);
        const job = res.json() as Record<string, unknown>;
        if (job.status === 'succeeded' || job.status === 'failed') return job;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error('the export job did not finish');
    }

    it('runs a job: 202, then succeeded with progress 100, and the download equals the direct export', async () => {
      const filter = { 'data.ok': true };
      const started = await post({
        format: 'csv',
        fields: ['name', 'age'],
        filter,
        since: '2025-01-02',
      });
      expect(started.statusCode, started.body).toBe(202);
      const job = started.json() as { id: string; status: string; progress: number };
      expect(job).toMatchObject({ status: 'queued', progress: 0, download_url: null });
      // This export is one page, so it goes from 0 to 100 at once; export-progress.test.ts
      // holds a three-page job mid-way and sees the progress in between.
      const done = await finished(job.id);
      expect(done).toMatchObject({
        status: 'succeeded',
        progress: 100,
        total: 4,
        download_url: `/api/v2/exports/${job.id}/download`,
      });
      const download = await get(done.download_url as string);
      expect(download.statusCode).toBe(200);
      expect(download.headers['content-disposition']).toContain('.csv');
      const direct = await get(
        exportUrl(
          `format=csv&fields=name,age&since=2025-01-02&filter=${encodeURIComponent(JSON.stringify(filter))}`,
        ),
      );
      expect(download.body).toBe(direct.body);
      expect(done.size).toBe(Buffer.byteLength(direct.body));
    });

    it('runs xlsx and pdf jobs; pdf without a renderer is refused', async () => {
      const xlsx = (await post({ format: 'xlsx' })).json() as { id: string };
      expect(await finished(xlsx.id)).toMatchObject({ status: 'succeeded' });
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(
        (await get(`/api/v2/exports/${xlsx.id}/download`)).rawPayload as unknown as ArrayBuffer,
      );
      expect(workbook.getWorksheet('Responses')!.rowCount).toBe(TRICKY.length + 1);
      expect((await post({ format: 'pdf' })).statusCode).toBe(422);
      const pdf = await post({ format: 'pdf' }, ws.key, pdfApp);
      expect(pdf.statusCode).toBe(202);
      expect(await finished((pdf.json() as { id: string }).id, pdfApp)).toMatchObject({
        status: 'succeeded',
      });
    });

    it('keeps jobs to their workspace and checks parameters up front', async () => {
      const job = (await post({ format: 'ndjson' })).json() as { id: string };
      await finished(job.id);
      expect((await get(`/api/v2/exports/${job.id}`, other.key)).statusCode).toBe(404);
      expect((await get(`/api/v2/exports/${job.id}/download`, other.key)).statusCode).toBe(404);
      expect((await post({ format: 'csv' }, other.key)).statusCode).toBe(404);
      expect((await post({ format: 'csv', fields: ['nope'] })).statusCode).toBe(400);
      expect((await post({ format: 'csv', filter: { 'data.nope': 1 } })).statusCode).toBe(400);
      expect((await get(`/api/v2/exports/not-a-uuid`)).statusCode).toBe(404);
    });
  });

  describe('20,000 responses', () => {
    const ROWS = 20_000;
    let bigForm: string;

    beforeAll(async () => {
      const created = await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key: ws.key,
        payload: {
          title: 'Big',
          fields: [
            { key: 'note', type: 'textarea' },
            { key: 'n', type: 'integer' },
          ],
        },
      });
      bigForm = (created.json() as { id: string }).id;
      await hub.db.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
         SELECT gen_random_uuid(), $1, $2, 1, jsonb_build_object('note', repeat('x', 500), 'n', i), true,
           timestamptz '2025-01-01' + i * interval '1 second', now()
         FROM generate_series(1, $3) AS i`,
        [ws.id, bigForm, ROWS],
      );
    });

    /**
     * Starts an export over real HTTP, reads its first chunk, pauses 500 ms, then reads the rest;
     * answers the pages read while paused, the body and the final page count.
     */
    async function pausedExport(format: 'csv' | 'xlsx') {
      const counter = { pages: 0 };
      const streaming = await exportApp(hub, countingDb(hub.db, counter), dataDir);
      await streaming.listen({ port: 0, host: '127.0.0.1' });
      try {
        const port = (streaming.server.address() as AddressInfo).port;
        const res = await fetch(
          `http://127.0.0.1:${port}/api/v2/forms/${bigForm}/export?format=${format}`,
          {
            headers: { authorization: `Bearer ${ws.key}` },
          },
        );
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        const first = await reader.read();
        expect(first.done).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const pagesWhilePaused = counter.pages;
        const chunks: Buffer[] = [Buffer.from(first.value!)];
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(Buffer.from(value));
        }
        return { pagesWhilePaused, body: Buffer.concat(chunks), pages: counter.pages };
      } finally {
        await streaming.close();
      }
    }

    it('streams every row with backpressure: a paused reader stops the queries', async () => {
      const { pagesWhilePaused, body, pages } = await pausedExport('csv');
      // While the reader pauses, only as many pages as fill the socket buffers may be read.
      expect(pagesWhilePaused).toBeLessThan(ROWS / 1000);
      const records = parse(body, { columns: true }) as Record<string, string>[];
      expect(records).toHaveLength(ROWS);
      expect(records[0]!.n).toBe(String(ROWS));
      expect(records.at(-1)!.n).toBe('1');
      expect(new Set(records.map((r) => r.id)).size).toBe(ROWS);
      // Pages are cut at 256 KiB (about 490 of these ~530-byte rows) or 1,000 rows.
      expect(pages).toBeGreaterThanOrEqual(ROWS / 1000 + 1);
      expect(pages).toBeLessThanOrEqual(Math.ceil((ROWS * 540) / (256 * 1024)) + 1);
    });

    it('streams XLSX in small pages with backpressure through the zip: a paused reader stops the queries', async () => {
      const { pagesWhilePaused, body, pages } = await pausedExport('xlsx');
      // exceljs's zip, then the socket, fill up and the writer stops asking for pages.
      expect(pagesWhilePaused).toBeLessThan(ROWS / XLSX_PAGE_SIZE / 2);
      expect(pages).toBe(ROWS / XLSX_PAGE_SIZE + 1);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(body as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('Responses')!;
      expect(sheet.rowCount).toBe(ROWS + 1);
      const ns: unknown[] = [];
      const ids = new Set<unknown>();
      sheet.eachRow((row, number) => {
        if (number === 1) return;
        ns.push(row.getCell(5).value);
        ids.add(row.getCell(1).value);
      });
      expect(ns).toEqual(Array.from({ length: ROWS }, (_, i) => ROWS - i));
      expect(ids.size).toBe(ROWS);
      expect(sheet.getRow(2).getCell(2).value).toEqual(
        new Date(Date.UTC(2025, 0, 1) + ROWS * 1000),
      );
    });

    it('reports progress as a job and keeps every row', async () => {
      const started = await app.inject({
        method: 'POST',
        url: `/api/v2/forms/${bigForm}/exports`,
        headers: { authorization: `Bearer ${ws.key}` },
        payload: { format: 'ndjson' },
      });
      const id = (started.json() as { id: string }).id;
      const seen = new Set<number>();
      let job: Record<string, unknown> = {};
      for (let i = 0; i < 400 && job.status !== 'succeeded'; i++) {
        job = (await get(`/api/v2/exports/${id}`)).json() as Record<string, unknown>;
        seen.add(job.progress as number);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(job).toMatchObject({ status: 'succeeded', total: ROWS, progress: 100 });
      const body = (await get(`/api/v2/exports/${id}/download`)).body;
      expect(body.trimEnd().split('\n')).toHaveLength(ROWS);
      expect([...seen].every((p) => p >= 0 && p <= 100)).toBe(true);
    });
  });
});
