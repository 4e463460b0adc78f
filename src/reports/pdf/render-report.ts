import { PassThrough, Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import PDFDocument from 'pdfkit';
import { drawCover } from './cover.ts';
import { resolveFonts } from './fonts.ts';
import { ReportDoc } from './report-doc.ts';
import { renderSlots } from './render-slots.ts';
import { countRenderTime } from '../../exports/index.ts';
import { drawResponseBlock } from './response-block.ts';
import { drawSummary, heading } from './summary.ts';
import { DEFAULT_TEMPLATE, fillPlaceholders } from './template.ts';
import type { ReportInput, ReportStats } from './types.ts';

/** pdfkit's cache of laid-out words is emptied after this many responses (see `trimFontCaches`). */
const FONT_CACHE_RESPONSES = 200;

/** Longest stretch of rendering between two turns of the event loop, in ms. */
export const RENDER_SLICE_MS = 20;

/**
 * Renders the report as a PDF stream. Pages are written out as soon as they are complete and
 * `input.responses` is pulled only as fast as the stream is read, so memory stays flat at any
 * size — unless the template's footer uses `{pages}` ("Page n of m"), which holds every page in
 * memory until the end (see docs/reports.md). Rendering runs in slices of about
 * `RENDER_SLICE_MS` on the event loop, at most `MAX_CONCURRENT_RENDERS` per process (the
 * others wait their turn). A failure destroys the stream with the error.
 * @example
 *   await pipeline(renderReportPdf(input), createWriteStream('report.pdf'));
 */
export function renderReportPdf(input: ReportInput): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  render(input, out).catch((err: unknown) =>
    out.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return out;
}

/**
 * Renders the report into `out` (a file, an HTTP response, a buffer collector) and resolves,
 * once `out` has finished, with the number of pages, responses and bytes written.
 */
export async function writeReportPdf(input: ReportInput, out: Writable): Promise<ReportStats> {
  const stream = new PassThrough({ highWaterMark: 256 * 1024 });
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const rendering = render(input, stream).catch((err: unknown) => {
    stream.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  const [counts] = await Promise.all([rendering, pipeline(stream, counter, out)]);
  return { ...counts, bytes };
}

async function render(input: ReportInput, out: PassThrough): Promise<Omit<ReportStats, 'bytes'>> {
  const release = await renderSlots.acquire();
  try {
    // A reader that left while the render waited for its slot: nothing to draw.
    if (out.destroyed) return { pages: 0, responses: 0 };
    return await renderDocument(input, out);
  } finally {
    release();
  }
}

async function renderDocument(
  input: ReportInput,
  out: PassThrough,
): Promise<Omit<ReportStats, 'bytes'>> {
  const template = input.template ?? DEFAULT_TEMPLATE;
  const fonts = resolveFonts(template.fonts.regular, template.fonts.bold);
  const needsTotal = template.footer.includes('{pages}');
  const doc = new PDFDocument({
    size: template.page.size,
    margins: template.page.margins,
    autoFirstPage: false,
    bufferPages: needsTotal,
    compress: true,
    info: {
      Title: input.form.title,
      Author: input.branding.name,
      Creator: 'formhub',
      Subject: template.labels.report_title,
    },
  });
  doc.pipe(out);
  const accent = /^#[0-9a-fA-F]{6}$/.test(input.branding.color ?? '')
    ? (input.branding.color as string)
    : template.colors.accent;
  const header = fillPlaceholders(template.header, {
    form_title: input.form.title,
    workspace: input.branding.name,
  });
  const footer = (page: number, pages?: number) =>
    page === 1
      ? undefined
      : fillPlaceholders(template.footer, pages === undefined ? { page } : { page, pages });
  const rd = new ReportDoc(
    doc,
    template,
    fonts,
    accent,
    header,
    needsTotal ? () => undefined : (p) => footer(p),
  );
  if (!fonts.builtin) {
    doc.registerFont(fonts.regular, parsedFont(fonts.regular) as never);
    doc.registerFont(fonts.bold, parsedFont(fonts.bold) as never);
  }

  // Fonts, cover and summary are each a slice of their own.
  await nextTurn();
  drawCover(rd, input);
  await nextTurn();
  drawSummary(rd, input);
  await nextTurn();
  rd.addPage();
  heading(rd, template.labels.responses_heading);
  let n = 0;
  let sliceStart = performance.now();
  for await (const response of input.responses) {
    if (out.destroyed) break;
    n += 1;
    const block = drawResponseBlock(rd, input.form, response, n);
    while (!block.next().done) {
      const spent = performance.now() - sliceStart;
      if (spent < RENDER_SLICE_MS) continue;
      countRenderTime(spent);
      await nextTurn(); // let requests (and other renders) run between slices
      sliceStart = performance.now();
    }
    if (n % FONT_CACHE_RESPONSES === 0) rd.trimFontCaches();
    if (out.writableNeedDrain) {
      await drained(out);
      sliceStart = performance.now();
    }
  }
  if (n === 0) {
    rd.use('regular', template.fonts.sizes.body);
    doc
      .fillColor(template.colors.muted)
      .text(rd.t(template.labels.no_data), rd.left, doc.y, { width: rd.width });
  }
  if (needsTotal) {
    const range = doc.bufferedPageRange();
    rd.footer = (p) => footer(p, range.count);
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      rd.drawFooter(i + 1);
    }
  }
  const pages = rd.page;
  const ended = new Promise<void>((resolve) => out.once('finish', resolve).once('close', resolve));
  doc.end();
  await ended;
  return { pages, responses: n };
}

const parsedFonts = new Map<string, unknown>();

/**
 * The font file parsed once per process and shared by every report: parsing it, and its
 * first layout (which decodes the large GSUB and GPOS tables), took 150-300 ms of event loop
 * per document. pdfkit takes a parsed font wherever it takes a path; this one is obtained
 * through a throwaway document so as to use pdfkit's own font loader.
 */
function parsedFont(path: string): unknown {
  let font = parsedFonts.get(path);
  if (font === undefined) {
    const probe = new PDFDocument({ autoFirstPage: false });
    probe.font(path);
    font = (probe as unknown as { _font: { font: unknown } })._font.font;
    parsedFonts.set(path, font);
  }
  return font;
}

/** Resolves when `stream` can take more data, or has been closed (the reader went away). */
function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
