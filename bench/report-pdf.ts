/**
 * PDF report benchmark (DESIGN.md section 5: "A 1,000-page PDF < 10 MB").
 *
 * Renders a report of a ten-field form (short and long text, accents, Cyrillic, choices,
 * multiselect, numbers, booleans, a calculated field) to a temporary file, with enough synthetic
 * responses for at least REPORT_PAGES pages (found by a calibration run on 300 responses unless
 * REPORT_RESPONSES is given), and prints pages, size, time, throughput and peak RSS.
 *
 *   node --import tsx bench/report-pdf.ts              (streamed, footer "Page {page}")
 *   node --import tsx bench/report-pdf.ts --of-total   (buffered pages, footer "Page {page} of {pages}")
 */

import './support/hub-runtime.ts'; // first: the hub's V8 flags, as bin/formhub.js applies them
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Field } from '../src/forms/index.ts';
import {
  DEFAULT_TEMPLATE,
  writeReportPdf,
  type ReportInput,
  type ReportResponse,
} from '../src/reports/pdf/index.ts';
import { printTable, round } from './support/stats.ts';

const TARGET_PAGES = Number(process.env.REPORT_PAGES ?? 1000);
const OF_TOTAL = process.argv.includes('--of-total');

const FIELDS: Field[] = [
  { key: 'name', type: 'text', label: 'Full name' },
  { key: 'email', type: 'email', label: 'Email' },
  {
    key: 'city',
    type: 'select',
    label: 'City',
    options: ['Berlin', 'Kraków', 'Москва', 'Zürich', 'Lisboa'],
  },
  { key: 'plan', type: 'radio', label: 'Plan', options: ['Free', 'Team', 'Enterprise'] },
  {
    key: 'topics',
    type: 'multiselect',
    label: 'Topics',
    options: ['API', 'Exports', 'Reports', 'Webhooks', 'Forms'],
  },
  { key: 'rating', type: 'rating', label: 'Rating', min: 1, max: 5 },
  { key: 'newsletter', type: 'boolean', label: 'Newsletter' },
  { key: 'seats', type: 'integer', label: 'Seats' },
  { key: 'comment', type: 'textarea', label: 'Comments' },
  { key: 'signed_up', type: 'date', label: 'Signed up' },
];

const WORDS =
  'lorem ipsum dolor sit amet café naïve façade привет мир отчёт данные größe Straße résumé'.split(
    ' ',
  );

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

function sentence(r: () => number, words: number): string {
  return Array.from({ length: words }, () => pick(r, WORDS)).join(' ');
}

async function* responses(count: number): AsyncGenerator<ReportResponse> {
  const r = rng(42);
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < count; i++) {
    const seats = 1 + Math.floor(r() * 200);
    yield {
      id: `r_${i.toString(36).padStart(8, '0')}`,
      submitted_at: new Date(start + i * 60_000 * 7),
      completed: r() > 0.1,
      data: {
        name: `${pick(r, ['Zoë', 'Jürgen', 'Ольга', 'Amélie', 'Bob'])} ${pick(r, ['Müller', 'Иванова', 'Dupont', 'Smith'])}`,
        email: `user${i}@example.com`,
        city: pick(r, FIELDS[2]!.options!),
        plan: pick(r, FIELDS[3]!.options!),
        topics: FIELDS[4]!.options!.filter(() => r() > 0.6),
        rating: 1 + Math.floor(r() * 5),
        newsletter: r() > 0.5,
        seats,
        comment: sentence(r, 5 + Math.floor(r() * 60)),
        signed_up: '2025-01-15',
        seat_cost: seats * 12,
      },
    };
  }
}

function input(count: number): ReportInput {
  const template = OF_TOTAL
    ? { ...DEFAULT_TEMPLATE, footer: 'Page {page} of {pages}' }
    : DEFAULT_TEMPLATE;
  const daily = Array.from({ length: 90 }, (_, d) => ({
    date: new Date(Date.UTC(2025, 0, 1 + d)).toISOString().slice(0, 10),
    count: Math.round(count / 90),
  }));
  const fields: ReportInput['summary']['fields'] = {
    city: {
      answered: count,
      counts: { Berlin: 30, Kraków: 20, Москва: 25, Zürich: 15, Lisboa: 10 },
    },
    plan: { answered: count, counts: { Free: 50, Team: 35, Enterprise: 15 } },
    topics: {
      answered: count,
      counts: { API: 40, Exports: 40, Reports: 40, Webhooks: 40, Forms: 40 },
    },
  };
  return {
    form: {
      id: 'f_bench',
      title: 'Customer survey 2025 — отчёт',
      description: 'Synthetic benchmark form.',
      fields: FIELDS,
      calculated_fields: [{ key: 'seat_cost', logic: {} }],
    },
    branding: { name: 'Acme GmbH', color: '#0a7d5a' },
    period: { since: new Date(Date.UTC(2025, 0, 1)), until: new Date(Date.UTC(2025, 3, 1)) },
    generatedAt: new Date(),
    summary: { total: count, completed: Math.round(count * 0.9), daily, fields },
    responses: responses(count),
    template,
  };
}

async function run(count: number) {
  const file = join(tmpdir(), `formhub-report-${process.pid}.pdf`);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const startRss = process.memoryUsage().rss;
  const t0 = performance.now();
  const stats = await writeReportPdf(input(count), createWriteStream(file));
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const size = statSync(file).size;
  rmSync(file, { force: true });
  return { ...stats, size, ms, startRss, peak };
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 2);

const calibration = process.env.REPORT_RESPONSES ? undefined : await run(300);
let count = Number(process.env.REPORT_RESPONSES ?? 0);
if (calibration) {
  const perPage = calibration.responses / (calibration.pages - 3);
  count = Math.ceil((TARGET_PAGES - 3) * perPage * 1.01);
}
let result = await run(count);
while (!process.env.REPORT_RESPONSES && result.pages < TARGET_PAGES) {
  count = Math.ceil(count * (TARGET_PAGES / result.pages) * 1.01);
  result = await run(count);
}

printTable(
  `PDF report (${OF_TOTAL ? 'buffered pages, "Page n of m"' : 'streamed, "Page n"'})`,
  ['metric', 'value'],
  [
    ['responses', result.responses],
    ['pages', result.pages],
    ['size (MB)', mb(result.size)],
    ['time (s)', round(result.ms / 1000, 2)],
    ['pages/s', round(result.pages / (result.ms / 1000), 0)],
    ['RSS at start (MB)', mb(result.startRss)],
    ['peak RSS (MB)', mb(result.peak)],
    ['RSS growth (MB)', mb(result.peak - result.startRss)],
  ],
);
console.log(
  JSON.stringify({
    bench: 'report-pdf',
    ofTotal: OF_TOTAL,
    ...result,
    sizeMB: mb(result.size),
    peakMB: mb(result.peak),
  }),
);
