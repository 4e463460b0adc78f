import { categoryLabels, valueAxes } from './axes.ts';
import type { ChartStyle, Datum } from './chart-style.ts';
import type { Box, DrawOp } from './draw-ops.ts';

/** A line chart of `data` in `box` (points at slot centres), with the same axes as `barChart`. */
export function lineChart(data: readonly Datum[], box: Box, style: ChartStyle): DrawOp[] {
  const plot = valueAxes(data, box, style);
  const slot = data.length > 0 ? plot.area.width / data.length : 0;
  const points = data.map((d, i) => [plot.area.x + slot * (i + 0.5), plot.y(d.value)] as const);
  const ops: DrawOp[] = [...plot.ops];
  if (points.length > 0) ops.push({ kind: 'line', points, color: style.color, width: 1.5 });
  if (points.length <= 62) {
    for (const [x, y] of points)
      ops.push({ kind: 'rect', x: x - 1.5, y: y - 1.5, width: 3, height: 3, fill: style.color });
  }
  return [...ops, ...categoryLabels(data, plot.area, style)];
}
