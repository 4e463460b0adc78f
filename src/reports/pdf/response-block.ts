import type { Field } from '../../forms/index.ts';
import { boundText } from './bound-text.ts';
import { formatDateTime, formatValue } from './format-value.ts';
import { fieldLabel, shouldBreakBefore } from './layout.ts';
import type { ReportDoc } from './report-doc.ts';
import { fillPlaceholders } from './template.ts';
import type { ReportForm, ReportResponse } from './types.ts';

/** One label/value line of a response block. */
export interface BlockRow {
  label: string;
  value: string;
}

/**
 * The rows of a response: form fields in form order, then calculated fields, each answer
 * bounded for the PDF (see `boundText`).
 */
export function responseRows(
  form: Pick<ReportForm, 'fields' | 'calculated_fields'>,
  response: Pick<ReportResponse, 'data'>,
  labels: Parameters<typeof formatValue>[2],
): BlockRow[] {
  const value = (raw: unknown, field: Field | undefined) =>
    boundText(formatValue(raw, field, labels), labels.truncated);
  const rows = form.fields.map((f: Field) => ({
    label: boundText(fieldLabel(f), labels.truncated),
    value: value(response.data[f.key], f),
  }));
  for (const c of form.calculated_fields)
    rows.push({ label: c.key, value: value(response.data[c.key], undefined) });
  return rows;
}

/**
 * Draws response number `n` as a block: a title line, then one row per field (label left,
 * value wrapped on the right). The block moves to the next page when it does not fit but would
 * fit on a page of its own; a longer one flows, breaking between rows, or inside a row taller
 * than a page.
 *
 * A generator: it yields after measuring and after drawing each row, so that the caller can
 * give the event loop a turn inside a block of many long answers (see `render-report.ts`).
 */
export function* drawResponseBlock(
  rd: ReportDoc,
  form: ReportForm,
  response: ReportResponse,
  n: number,
): Generator<void, void, undefined> {
  const { doc, template } = rd;
  const { sizes } = template.fonts;
  const labels = template.labels;
  const gap = template.responses.row_gap;
  const labelWidth = Math.round(rd.width * template.responses.label_width);
  const valueX = rd.left + labelWidth + 10;
  const valueWidth = rd.width - labelWidth - 10;

  const rows: (BlockRow & { height: number })[] = [];
  for (const row of responseRows(form, response, labels)) {
    const height = Math.max(
      rd.measure(row.label, labelWidth, 'bold', sizes.body),
      rd.measure(row.value, valueWidth, 'regular', sizes.body),
    );
    rows.push({ ...row, height });
    yield;
  }
  const titleHeight = sizes.body * 2.2;
  const blockHeight = titleHeight + rows.reduce((sum, r) => sum + r.height + gap, 0);
  if (shouldBreakBefore(blockHeight, rd.remaining(), rd.contentHeight)) rd.addPage();

  const top = doc.y;
  doc
    .lineWidth(0.6)
    .moveTo(rd.left, top)
    .lineTo(rd.left + rd.width, top)
    .stroke(template.colors.block_rule);
  const status = response.completed ? labels.completed : labels.partial;
  const submitted = fillPlaceholders(labels.submitted, {
    submitted_at: formatDateTime(response.submitted_at, template.locale, template.time_zone),
  });
  rd.use('bold', sizes.body);
  doc.fillColor(rd.accent).text(rd.t(fillPlaceholders(labels.response, { n })), rd.left, top + 5, {
    width: rd.width / 2,
    lineBreak: false,
  });
  rd.use('regular', sizes.small);
  doc
    .fillColor(template.colors.muted)
    .text(rd.t(`${submitted} · ${status} · ${response.id}`), rd.left + rd.width / 2, top + 6, {
      width: rd.width / 2,
      align: 'right',
      lineBreak: false,
    });
  doc.y = top + titleHeight;

  for (const row of rows) {
    if (row.height > rd.remaining() && row.height <= rd.contentHeight) rd.addPage();
    const y = doc.y;
    const page = rd.page;
    rd.use('bold', sizes.body);
    doc.fillColor(template.colors.muted).text(rd.t(row.label), rd.left, y, { width: labelWidth });
    rd.use('regular', sizes.body);
    doc.fillColor(template.colors.text).text(rd.t(row.value), valueX, y, { width: valueWidth });
    // A value taller than a page has flowed onto later pages: carry on below where it ended.
    doc.y = (rd.page === page ? y + row.height : doc.y) + gap;
    yield;
  }
  doc.x = rd.left;
  doc.y += template.responses.block_gap;
}
