import type { ChartStyle, Datum } from './chart-style.ts';
import type { Box, DrawOp } from './draw-ops.ts';
import { formatTick, labelStride, linearScale, niceTicks, type LinearScale } from './scale.ts';

/** The plot area of a vertical chart and how values map onto it. */
export interface Plot {
  area: Box;
  y: LinearScale;
  ops: DrawOp[];
}

const LEFT_GUTTER = 34;
const BOTTOM_GUTTER = 16;

/**
 * Y axis with gridlines and tick labels, and the x axis line, for a chart of `data` in `box`.
 * Values are counts, so ticks are integers.
 */
export function valueAxes(data: readonly Datum[], box: Box, style: ChartStyle): Plot {
  const max = Math.max(0, ...data.map((d) => d.value));
  const ticks = niceTicks(0, max, 5, true);
  const area: Box = {
    x: box.x + LEFT_GUTTER,
    y: box.y + style.fontSize / 2,
    width: box.width - LEFT_GUTTER,
    height: box.height - BOTTOM_GUTTER - style.fontSize / 2,
  };
  const bottom = area.y + area.height;
  const y = linearScale([ticks.min, ticks.max], [bottom, area.y]);
  const ops: DrawOp[] = [];
  for (const value of ticks.values) {
    const ty = y(value);
    ops.push({
      kind: 'line',
      points: [
        [area.x, ty],
        [area.x + area.width, ty],
      ],
      color: style.grid,
      width: 0.5,
    });
    ops.push({
      kind: 'text',
      text: formatTick(value),
      x: box.x,
      y: ty - style.fontSize / 2,
      width: LEFT_GUTTER - 4,
      size: style.fontSize,
      color: style.muted,
      align: 'right',
    });
  }
  ops.push({
    kind: 'line',
    points: [
      [area.x, area.y],
      [area.x, bottom],
      [area.x + area.width, bottom],
    ],
    color: style.axis,
    width: 0.8,
  });
  return { area, y, ops };
}

/**
 * Category labels under the x axis, centred on each slot, thinned to every k-th label
 * when they would overlap.
 */
export function categoryLabels(data: readonly Datum[], area: Box, style: ChartStyle): DrawOp[] {
  if (data.length === 0) return [];
  const slot = area.width / data.length;
  const longest = Math.max(...data.map((d) => d.label.length));
  const labelWidth = longest * style.fontSize * 0.55 + 6;
  const stride = labelStride(data.length, area.width, labelWidth);
  const ops: DrawOp[] = [];
  const top = area.y + area.height + 4;
  data.forEach((d, i) => {
    if (i % stride !== 0) return;
    const cx = area.x + slot * (i + 0.5);
    ops.push({
      kind: 'text',
      text: d.label,
      x: cx - labelWidth / 2,
      y: top,
      width: labelWidth,
      size: style.fontSize,
      color: style.muted,
      align: 'center',
    });
  });
  return ops;
}
