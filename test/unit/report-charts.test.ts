import { describe, expect, it } from 'vitest';
import {
  barChart,
  formatTick,
  horizontalBarChart,
  labelStride,
  lineChart,
  linearScale,
  niceNumber,
  niceTicks,
  paint,
  percentage,
  type ChartCanvas,
  type ChartStyle,
  type DrawOp,
} from '../../src/reports/charts/index.ts';

const STYLE: ChartStyle = {
  color: '#123456',
  text: '#000000',
  muted: '#666666',
  grid: '#eeeeee',
  axis: '#999999',
  fontSize: 8,
};
const BOX = { x: 50, y: 100, width: 400, height: 150 };

describe('scales and ticks', () => {
  it('maps a domain linearly, inverted ranges included', () => {
    const y = linearScale([0, 10], [200, 100]);
    expect(y(0)).toBe(200);
    expect(y(5)).toBe(150);
    expect(y(10)).toBe(100);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(0);
  });

  it('picks nice numbers of 1, 2 and 5', () => {
    expect(niceNumber(0.8, true)).toBe(1);
    expect(niceNumber(2.6, true)).toBe(2);
    expect(niceNumber(4, true)).toBe(5);
    expect(niceNumber(8, true)).toBe(10);
    expect(niceNumber(130, true)).toBe(100);
  });

  it('covers the range with round ticks', () => {
    expect(niceTicks(0, 97)).toEqual({
      min: 0,
      max: 100,
      step: 20,
      values: [0, 20, 40, 60, 80, 100],
    });
    expect(niceTicks(0, 0).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0, 5, true).values).toEqual([0, 1]);
    expect(niceTicks(0, 3, 5, true).step).toBe(1);
    expect(niceTicks(0, 1, 5).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const t = niceTicks(-13, 42);
    expect(t.min).toBeLessThanOrEqual(-13);
    expect(t.max).toBeGreaterThanOrEqual(42);
    expect(() => niceTicks(0, Infinity)).toThrow(RangeError);
  });

  it('computes percentages and formats ticks', () => {
    expect(percentage(1, 3)).toBe(33);
    expect(percentage(1, 3, 1)).toBe(33.3);
    expect(percentage(5, 0)).toBe(0);
    expect(formatTick(1500)).toBe('1500');
    expect(formatTick(25_000)).toBe('25k');
    expect(formatTick(3_000_000)).toBe('3M');
    expect(formatTick(0.25)).toBe('0.25');
  });

  it('thins category labels that would overlap', () => {
    expect(labelStride(10, 400, 30)).toBe(1);
    expect(labelStride(90, 400, 30)).toBe(7);
    expect(labelStride(0, 400, 30)).toBe(1);
  });
});

const texts = (ops: DrawOp[]) => ops.flatMap((op) => (op.kind === 'text' ? [op.text] : []));
const rects = (ops: DrawOp[]) => ops.filter((op) => op.kind === 'rect');

describe('charts', () => {
  const data = [
    { label: '03-01', value: 4 },
    { label: '03-02', value: 0 },
    { label: '03-03', value: 9 },
  ];

  it('draws one bar per non-zero value inside the box, with tick labels', () => {
    const ops = barChart(data, BOX, STYLE);
    const bars = rects(ops);
    expect(bars).toHaveLength(2);
    for (const bar of bars) {
      if (bar.kind !== 'rect') continue;
      expect(bar.x).toBeGreaterThanOrEqual(BOX.x);
      expect(bar.x + bar.width).toBeLessThanOrEqual(BOX.x + BOX.width);
      expect(bar.y).toBeGreaterThanOrEqual(BOX.y);
      expect(bar.y + bar.height).toBeLessThanOrEqual(BOX.y + BOX.height);
    }
    expect(texts(ops)).toEqual(
      expect.arrayContaining(['0', '2', '4', '6', '8', '10', '03-01', '03-03']),
    );
  });

  it('draws a line through every point', () => {
    const ops = lineChart(data, BOX, STYLE);
    const series = ops.find((op) => op.kind === 'line' && op.color === STYLE.color);
    expect(series?.kind === 'line' && series.points).toHaveLength(3);
  });

  it('draws horizontal bars with counts and percentages of the answered total', () => {
    const ops = horizontalBarChart(
      [
        { label: 'Yes', value: 3 },
        { label: 'No', value: 1 },
      ],
      4,
      BOX,
      STYLE,
    );
    expect(texts(ops)).toEqual(['Yes', '3 (75%)', 'No', '1 (25%)']);
    const filled = rects(ops).filter((op) => op.kind === 'rect' && op.fill === STYLE.color);
    const [yes, no] = filled.map((op) => (op.kind === 'rect' ? op.width : 0));
    expect(yes).toBeCloseTo((no ?? 0) * 3);
  });

  it('paints operations through the canvas interface', () => {
    const calls: string[] = [];
    const record =
      (name: string) =>
      (...args: unknown[]) =>
        void calls.push(`${name}(${args.filter((a) => typeof a !== 'object').join(',')})`);
    const canvas: ChartCanvas = {
      moveTo: record('moveTo'),
      lineTo: record('lineTo'),
      rect: record('rect'),
      fill: record('fill'),
      stroke: record('stroke'),
      lineWidth: record('lineWidth'),
      fillColor: record('fillColor'),
      fontSize: record('fontSize'),
      text: record('text'),
    };
    paint(canvas, [
      { kind: 'rect', x: 1, y: 2, width: 3, height: 4, fill: '#ff0000' },
      {
        kind: 'line',
        points: [
          [0, 0],
          [5, 5],
        ],
        color: '#00ff00',
        width: 2,
      },
      { kind: 'text', text: 'hi', x: 7, y: 8, width: 20, size: 9, color: '#0000ff', align: 'left' },
    ]);
    expect(calls).toEqual([
      'rect(1,2,3,4)',
      'fill(#ff0000)',
      'lineWidth(2)',
      'moveTo(0,0)',
      'lineTo(5,5)',
      'stroke(#00ff00)',
      'fillColor(#0000ff)',
      'fontSize(9)',
      'text(hi,7,8)',
    ]);
  });
});
