export { barChart } from './bar-chart.ts';
export { lineChart } from './line-chart.ts';
export { horizontalBarChart, horizontalBarChartHeight } from './horizontal-bar-chart.ts';
export { paint, type Box, type ChartCanvas, type DrawOp, type TextAlign } from './draw-ops.ts';
export type { ChartStyle, Datum } from './chart-style.ts';
export {
  formatTick,
  labelStride,
  linearScale,
  niceNumber,
  niceTicks,
  percentage,
  type Ticks,
} from './scale.ts';
