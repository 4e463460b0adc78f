import { fillPlaceholders } from './template.ts';
import { formatDate, formatDateTime } from './format-value.ts';
import type { ReportDoc } from './report-doc.ts';
import type { ReportInput } from './types.ts';

const BAND_HEIGHT = 120;

/** The cover page: branding band (name, colour, logo), title, description and key figures. */
export function drawCover(rd: ReportDoc, input: ReportInput): void {
  const { doc, template } = rd;
  const { sizes } = template.fonts;
  const labels = template.labels;
  rd.addPage();
  doc.rect(0, 0, doc.page.width, BAND_HEIGHT).fill(rd.accent);
  drawLogo(rd, input.branding.logo);
  rd.use('bold', sizes.heading);
  doc
    .fillColor('#ffffff')
    .text(rd.t(input.branding.name), rd.left, BAND_HEIGHT / 2 - sizes.heading / 2, {
      width: rd.width - 140,
      lineBreak: false,
    });

  doc.y = BAND_HEIGHT + 48;
  rd.use('regular', sizes.subtitle);
  doc
    .fillColor(template.colors.muted)
    .text(rd.t(labels.report_title.toUpperCase()), rd.left, doc.y, {
      width: rd.width,
      characterSpacing: 1,
    });
  rd.use('bold', sizes.title);
  doc
    .fillColor(template.colors.text)
    .text(rd.t(input.form.title), rd.left, doc.y + 6, { width: rd.width });
  if (input.form.description) {
    rd.use('regular', sizes.subtitle);
    doc
      .fillColor(template.colors.muted)
      .text(rd.t(clip(input.form.description, 1200)), rd.left, doc.y + 10, { width: rd.width });
  }
  doc.y += 28;
  doc
    .lineWidth(2)
    .moveTo(rd.left, doc.y)
    .lineTo(rd.left + 60, doc.y)
    .stroke(rd.accent);
  doc.y += 18;

  const zone = template.time_zone;
  const locale = template.locale;
  const { total, completed } = input.summary;
  const facts: Array<[string, string]> = [
    [
      labels.responses,
      `${total}  (${labels.completed}: ${completed}, ${labels.partial}: ${total - completed})`,
    ],
    [labels.period, describePeriod(input.period, labels, (d) => formatDate(d, locale, zone))],
    [labels.generated, formatDateTime(input.generatedAt, locale, zone)],
  ];
  for (const [label, value] of facts) drawFact(rd, label, value);

  rd.use('regular', sizes.body);
  doc
    .fillColor(template.colors.muted)
    .text(
      rd.t(fillPlaceholders(labels.prepared_for, { name: input.branding.name })),
      rd.left,
      rd.bottom - sizes.body * 2,
      {
        width: rd.width,
        lineBreak: false,
      },
    );
}

/** "All time", "since 1 Mar 2025", "until …" or "1 Mar 2025 – 31 Mar 2025". */
export function describePeriod(
  period: { since?: Date; until?: Date },
  labels: { all_time: string; since: string; until: string },
  format: (d: Date) => string,
): string {
  const { since, until } = period;
  if (since && until) return `${format(since)} – ${format(until)}`;
  if (since) return fillPlaceholders(labels.since, { since: format(since) });
  if (until) return fillPlaceholders(labels.until, { until: format(until) });
  return labels.all_time;
}

function drawFact(rd: ReportDoc, label: string, value: string): void {
  const { doc, template } = rd;
  const y = doc.y;
  rd.use('regular', template.fonts.sizes.body);
  doc.fillColor(template.colors.muted).text(rd.t(label), rd.left, y, { width: 110 });
  rd.use('bold', template.fonts.sizes.subtitle);
  doc
    .fillColor(template.colors.text)
    .text(rd.t(value), rd.left + 120, y - 1, { width: rd.width - 120 });
  doc.y += 10;
}

function drawLogo(rd: ReportDoc, logo: Buffer | undefined): void {
  if (!logo || !isImage(logo)) return;
  const size = BAND_HEIGHT - 40;
  try {
    rd.doc.image(logo, rd.left + rd.width - size, 20, {
      fit: [size, size],
      align: 'right',
      valign: 'center',
    });
  } catch {
    // An undecodable logo must not cost the report; the band still carries the name.
  }
}

/** PNG or JPEG magic bytes (the only formats pdfkit embeds). */
export function isImage(buf: Buffer): boolean {
  const png = buf.length > 8 && buf.readUInt32BE(0) === 0x89504e47;
  const jpeg = buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8;
  return png || jpeg;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
