import {
  barChart,
  horizontalBarChart,
  horizontalBarChartHeight,
  lineChart,
} from '../charts/index.ts';
import { choiceCharts, dailyChartKind, fieldLabel, fillDailyGaps } from './layout.ts';
import type { ReportDoc } from './report-doc.ts';
import { fillPlaceholders } from './template.ts';
import type { ReportInput } from './types.ts';

/** The summary pages: daily submissions, then one percentage bar chart per choice field. */
export function drawSummary(rd: ReportDoc, input: ReportInput): void {
  const { doc, template } = rd;
  const { sizes } = template.fonts;
  const charts = template.charts;
  rd.addPage();
  heading(rd, template.labels.summary);

  const daily = fillDailyGaps(input.summary.daily);
  chartTitle(rd, template.labels.daily_submissions, undefined, charts.height);
  if (daily.length === 0) {
    note(rd, template.labels.no_data);
  } else {
    const box = { x: rd.left, y: doc.y, width: rd.width, height: charts.height };
    const kind = dailyChartKind(charts.daily, daily.length, charts.line_when_days_over);
    rd.paint((kind === 'line' ? lineChart : barChart)(daily, box, rd.chartStyle(rd.accent)));
    doc.y += charts.height + 18;
  }

  const total = input.summary.total;
  for (const chart of choiceCharts(
    input.form,
    input.summary,
    charts.max_options,
    template.labels,
  )) {
    const height = horizontalBarChartHeight(Math.max(1, chart.data.length), sizes.small);
    const subtitle = fillPlaceholders(template.labels.answered, {
      answered: chart.answered,
      total,
    });
    chartTitle(rd, fieldLabel(chart.field), subtitle, height);
    const box = { x: rd.left, y: doc.y, width: rd.width, height };
    rd.paint(horizontalBarChart(chart.data, chart.answered, box, rd.chartStyle(rd.accent)));
    doc.y += height + 14;
  }
}

/** A section heading in the accent colour. */
export function heading(rd: ReportDoc, text: string): void {
  rd.use('bold', rd.template.fonts.sizes.heading);
  rd.doc.fillColor(rd.accent).text(rd.t(text), rd.left, rd.doc.y, { width: rd.width });
  rd.doc.y += 8;
}

/** A chart's title (and muted subtitle), moved to a new page with its chart when they don't fit. */
function chartTitle(
  rd: ReportDoc,
  title: string,
  subtitle: string | undefined,
  chartHeight: number,
): void {
  const { doc, template } = rd;
  const { sizes } = template.fonts;
  const titleHeight = sizes.chart_title * 1.4 + (subtitle ? sizes.small * 1.4 : 0) + 6;
  const needed = Math.min(titleHeight + chartHeight, rd.contentHeight);
  if (rd.remaining() < needed) rd.addPage();
  rd.use('bold', sizes.chart_title);
  doc
    .fillColor(template.colors.text)
    .text(rd.t(title), rd.left, doc.y, { width: rd.width, lineBreak: false });
  if (subtitle) {
    rd.use('regular', sizes.small);
    doc
      .fillColor(template.colors.muted)
      .text(rd.t(subtitle), rd.left, doc.y, { width: rd.width, lineBreak: false });
  }
  doc.y += 6;
}

function note(rd: ReportDoc, text: string): void {
  rd.use('regular', rd.template.fonts.sizes.body);
  rd.doc
    .fillColor(rd.template.colors.muted)
    .text(rd.t(text), rd.left, rd.doc.y, { width: rd.width });
  rd.doc.y += 14;
}
