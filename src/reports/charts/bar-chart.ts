import { categoryLabels, valueAxes } from './axes.ts';
import type { ChartStyle, Datum } from './chart-style.ts';
import type { Box, DrawOp } from './draw-ops.ts';

/** A vertical bar chart of `data` in `box`: axes, integer ticks, gridlines, category labels. */
export function barChart(data: readonly Datum[], box: Box, style: ChartStyle): DrawOp[] {
  const plot = valueAxes(data, box, style);
  const ops: DrawOp[] = [...plot.ops];
  const slot = data.length > 0 ? plot.area.width / data.length : 0;
  const barWidth = Math.max(0.5, slot * 0.7);
  const base = plot.y(0);
  data.forEach((d, i) => {
    const top = plot.y(d.value);
    if (d.value <= 0) return;
    ops.push({
      kind: 'rect',
      x: plot.area.x + slot * i + (slot - barWidth) / 2,
      y: top,
      width: barWidth,
      height: base - top,
      fill: style.color,
    });
  });
  return [...ops, ...categoryLabels(data, plot.area, style)];
}
