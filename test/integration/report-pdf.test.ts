import { Writable } from 'node:stream';
import { PDFParse } from 'pdf-parse';
import { describe, expect, it } from 'vitest';
import type { Field } from '../../src/forms/index.ts';
import {
  DEFAULT_TEMPLATE,
  renderReportPdf,
  writeReportPdf,
  type ReportInput,
  type ReportResponse,
} from '../../src/reports/pdf/index.ts';

// A 1x1 transparent PNG.
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const FIELDS: Field[] = [
  { key: 'name', type: 'text', label: 'Name' },
  { key: 'city', type: 'select', label: 'City', options: ['Zürich', 'Москва', 'Paris'] },
  { key: 'topics', type: 'multiselect', label: 'Topics', options: ['API', 'Reports', 'Webhooks'] },
  { key: 'subscribe', type: 'boolean', label: 'Subscribe' },
  { key: 'comment', type: 'textarea', label: 'Comment' },
];

const LONG =
  'Ceci est une réponse très longue, with many words that must wrap across several lines. '.repeat(
    25,
  );

function responses(count: number): ReportResponse[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `resp_${i}`,
    submitted_at: new Date(Date.UTC(2025, 2, 1 + (i % 20), 9, 30)),
    completed: i % 7 !== 0,
    data: {
      name: i % 3 === 0 ? `Ольга Иванова ${i}` : `Zoë Müller ${i}`,
      city: ['Zürich', 'Москва', 'Paris'][i % 3],
      topics: i % 2 === 0 ? ['API', 'Reports'] : ['Webhooks'],
      subscribe: i % 2 === 0,
      comment: i % 10 === 0 ? LONG : `Short note ${i}`,
      score: i * 2,
    },
  }));
}

async function* lazily<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

function reportInput(count: number, overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    form: {
      id: 'f_1',
      title: 'Customer Feedback Q1 — Отзывы',
      description: 'Quarterly survey of our customers (café owners in Zürich and Москва).',
      fields: FIELDS,
      calculated_fields: [{ key: 'score', logic: { '*': [2, 2] } }],
    },
    branding: { name: 'Acme Cafés', color: '#aa3355', logo: LOGO },
    period: { since: new Date(Date.UTC(2025, 2, 1)), until: new Date(Date.UTC(2025, 2, 31)) },
    generatedAt: new Date(Date.UTC(2025, 3, 1, 8, 0)),
    summary: {
      total: count,
      completed: count - Math.ceil(count / 7),
      daily: [
        { date: '2025-03-01', count: 20 },
        { date: '2025-03-02', count: 15 },
        { date: '2025-03-05', count: 40 },
      ],
      fields: {
        city: { answered: count, counts: { Zürich: 100, Москва: 100, Paris: 100 } },
        topics: { answered: count, counts: { API: 150, Reports: 150, Webhooks: 150 } },
        subscribe: { answered: count, counts: { true: 150, false: 150 } },
      },
    },
    responses: lazily(responses(count)),
    ...overrides,
  };
}

async function collect(input: ReportInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of renderReportPdf(input)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parse(pdf: Buffer): Promise<{ text: string; pages: number }> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    const result = await parser.getText();
    return { text: result.text, pages: result.total };
  } finally {
    await parser.destroy();
  }
}

describe('PDF report', () => {
  it('renders cover, summary and 300 responses with extractable text', async () => {
    const pdf = await collect(reportInput(300));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const { text, pages } = await parse(pdf);
    expect(pages).toBeGreaterThan(10);
    expect(text).toContain('Customer Feedback Q1');
    expect(text).toContain('Отзывы');
    expect(text).toContain('Acme Cafés');
    expect(text).toContain('300');
    expect(text).toContain('Daily submissions');
    expect(text).toMatch(/Page 2\b/);
    expect(text).toContain(`Page ${pages}`);
    expect(text).toContain('Ольга Иванова 0');
    expect(text).toContain('Zoë Müller 299');
    expect(text).toContain('API, Reports');
    expect(text).toContain('Москва');
    expect(text).toContain('Yes');
    expect(text).toContain('Response 300');
    expect(text).toContain('score');
    expect(text).toContain('réponse très longue');
  });

  it('reports pages, responses and bytes through writeReportPdf', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
    const stats = await writeReportPdf(reportInput(40, { branding: { name: 'No logo' } }), sink);
    const pdf = Buffer.concat(chunks);
    expect(stats.bytes).toBe(pdf.length);
    expect(stats.responses).toBe(40);
    const { pages } = await parse(pdf);
    expect(stats.pages).toBe(pages);
  });

  it('prints "Page n of m" when the template footer asks for the total', async () => {
    const template = { ...DEFAULT_TEMPLATE, footer: 'Seite {page} von {pages}' };
    const pdf = await collect(reportInput(60, { template }));
    const { text, pages } = await parse(pdf);
    expect(text).toContain(`Seite ${pages} von ${pages}`);
    expect(text).toContain(`Seite 2 von ${pages}`);
  });

  it('falls back to Helvetica with replaced characters when no font file exists', async () => {
    const template = {
      ...DEFAULT_TEMPLATE,
      fonts: { ...DEFAULT_TEMPLATE.fonts, regular: ['/nonexistent.ttf'], bold: [] },
    };
    const pdf = await collect(reportInput(5, { template }));
    const { text } = await parse(pdf);
    expect(text).toContain('Zoë Müller 1');
    expect(text).not.toContain('Ольга');
  });

  it('renders an empty report and skips an undecodable logo', async () => {
    const pdf = await collect(
      reportInput(0, {
        branding: { name: 'Broken logo', logo: Buffer.from('not an image') },
        summary: { total: 0, completed: 0, daily: [], fields: {} },
      }),
    );
    const { text } = await parse(pdf);
    expect(text).toContain('No data in this period.');
  });

  it('destroys the stream when the responses fail', async () => {
    async function* failing(): AsyncGenerator<ReportResponse> {
      yield* responses(3);
      throw new Error('cursor lost');
    }
    await expect(collect(reportInput(3, { responses: failing() }))).rejects.toThrow('cursor lost');
  });
});
