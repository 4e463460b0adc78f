import type { ChartStyle, Datum } from './chart-style.ts';
import type { Box, DrawOp } from './draw-ops.ts';
import { percentage } from './scale.ts';

/** Height in points of one row of a horizontal bar chart at `fontSize`. */
export function horizontalRowHeight(fontSize: number): number {
  return Math.round(fontSize * 2.2);
}

/** The height `horizontalBarChart` needs for `rows` rows. */
export function horizontalBarChartHeight(rows: number, fontSize: number): number {
  return rows * horizontalRowHeight(fontSize);
}

/**
 * One row per option: its label, a bar proportional to its share of `total`
 * (the respondents who answered), and "count (p%)". Bars share one scale: 100% is the full width.
 * For multi-select fields the percentages may add up to more than 100%.
 */
export function horizontalBarChart(
  data: readonly Datum[],
  total: number,
  box: Box,
  style: ChartStyle,
): DrawOp[] {
  const rowHeight = horizontalRowHeight(style.fontSize);
  const labelWidth = box.width * 0.3;
  const valueWidth = 70;
  const barX = box.x + labelWidth + 6;
  const barMax = Math.max(1, box.width - labelWidth - valueWidth - 12);
  const ops: DrawOp[] = [];
  data.forEach((d, i) => {
    const top = box.y + i * rowHeight;
    const textY = top + (rowHeight - style.fontSize) / 2;
    const share = total > 0 ? d.value / total : 0;
    ops.push({
      kind: 'text',
      text: d.label,
      x: box.x,
      y: textY,
      width: labelWidth,
      size: style.fontSize,
      color: style.text,
      align: 'right',
    });
    ops.push({
      kind: 'rect',
      x: barX,
      y: top + rowHeight * 0.2,
      width: barMax,
      height: rowHeight * 0.6,
      fill: style.grid,
    });
    if (share > 0) {
      ops.push({
        kind: 'rect',
        x: barX,
        y: top + rowHeight * 0.2,
        width: Math.max(0.5, barMax * Math.min(1, share)),
        height: rowHeight * 0.6,
        fill: style.color,
      });
    }
    ops.push({
      kind: 'text',
      text: `${d.value} (${percentage(d.value, total, 1)}%)`,
      x: barX + barMax + 6,
      y: textY,
      width: valueWidth,
      size: style.fontSize,
      color: style.muted,
      align: 'left',
    });
  });
  return ops;
}
