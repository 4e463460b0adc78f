import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportReportRenderer, createPdfRenderer } from '../../src/reports/index.ts';
import { WorkspaceService } from '../../src/workspaces/index.ts';
import { FormService } from '../../src/forms/index.ts';
import { startHub, type TestHub } from '../support/hub.ts';

async function pdfText(buffer: Buffer): Promise<string> {
  const parser = new PDFParse({ data: buffer });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
}

async function read(content: Buffer | NodeJS.ReadableStream): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const chunks: Buffer[] = [];
  for await (const chunk of content as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('PDF export and report rendering, wired into the hub', () => {
  let hub: TestHub;
  let key: string;
  let formId: string;
  beforeAll(async () => {
    hub = await startHub();
    key = (await hub.workspace('Acme Research')).key;
    formId = (
      await hub.request({
        method: 'POST',
        url: '/api/v2/forms',
        key,
        payload: {
          title: 'Customer survey',
          description: 'Quarterly',
          fields: [
            { key: 'name', type: 'text' },
            { key: 'dept', type: 'select', options: ['IT', 'HR'] },
          ],
        },
      })
    ).json().id;
    const rows = [
      { data: { name: 'Zoë', dept: 'IT' }, submitted_at: '2026-11-02T10:00:00Z' },
      { data: { name: 'Ива', dept: 'HR' }, submitted_at: '2026-11-03T10:00:00Z' },
      { data: { name: 'Ada', dept: 'IT' }, submitted_at: '2026-10-01T10:00:00Z' },
    ];
    expect(
      (
        await hub.request({
          method: 'POST',
          url: `/api/v2/forms/${formId}/responses/import`,
          key,
          payload: rows,
        })
      ).statusCode,
    ).toBe(201);
  });
  afterAll(async () => hub.close());

  it('exports a branded PDF with the summary and the responses', async () => {
    const res = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${formId}/export?format=pdf`,
      key,
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toContain('application/pdf');
    const text = await pdfText(res.rawPayload);
    expect(text).toContain('Customer survey');
    expect(text).toContain('Acme Research');
    expect(text).toContain('Zoë');
  });

  it.each([
    ['in process', false],
    ['on the hub’s export threads', true],
  ])(
    'renders a scheduled report for its period (csv, pdf), honouring the filter, %s',
    async (_how, onThreads) => {
      const forms = new FormService(hub.db);
      const form = await forms.getAny(formId);
      const threads = onThreads ? hub.services.exportThreads : undefined;
      if (onThreads) expect(threads).toBeDefined();
      const renderer = new ExportReportRenderer(
        hub.db,
        createPdfRenderer(hub.db, new WorkspaceService(hub.db, undefined)),
        { threads },
      );
      const input = {
        reportId: '00000000-0000-7000-8000-000000000001',
        workspaceId: form!.workspace_id,
        form: form!,
        period: { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-08T00:00:00Z') },
        filter: { 'data.dept': 'IT' },
        timezone: 'UTC',
      };
      const csv = await renderer.render('csv', input);
      expect(csv.filename).toBe('customer-survey-2026-11-08.csv');
      const lines = (await read(csv.content)).toString('utf8').trim().split(/\r?\n/);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toContain('Zoë');
      const pdf = await renderer.render('pdf', { ...input, filter: null });
      const text = await pdfText(await read(pdf.content));
      expect(text).toContain('Ива');
      expect(text).not.toContain('Ada');
    },
  );
});
