/**
 * Charts are computed as a list of drawing operations (pure, testable) and then painted
 * onto a small canvas interface; a pdfkit document satisfies `ChartCanvas` as it is.
 */

/** A box on the page, in points, y growing downwards (pdfkit's convention). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type TextAlign = 'left' | 'center' | 'right';

export type DrawOp =
  | { kind: 'rect'; x: number; y: number; width: number; height: number; fill: string }
  | { kind: 'line'; points: ReadonlyArray<readonly [number, number]>; color: string; width: number }
  | {
      kind: 'text';
      text: string;
      x: number;
      y: number;
      width: number;
      size: number;
      color: string;
      align: TextAlign;
    };

/** The drawing primitives charts need: paths, fills, strokes and single-line text. */
export interface ChartCanvas {
  moveTo(x: number, y: number): unknown;
  lineTo(x: number, y: number): unknown;
  rect(x: number, y: number, width: number, height: number): unknown;
  fill(color: string): unknown;
  stroke(color: string): unknown;
  lineWidth(width: number): unknown;
  fillColor(color: string): unknown;
  fontSize(size: number): unknown;
  text(
    text: string,
    x: number,
    y: number,
    options: { width: number; align: TextAlign; lineBreak: false },
  ): unknown;
}

/** Paints `ops` in order. Text is single-line (never wraps, never breaks the page). */
export function paint(canvas: ChartCanvas, ops: readonly DrawOp[]): void {
  for (const op of ops) {
    if (op.kind === 'rect') {
      canvas.rect(op.x, op.y, op.width, op.height);
      canvas.fill(op.fill);
    } else if (op.kind === 'line') {
      const [first, ...rest] = op.points;
      if (!first) continue;
      canvas.lineWidth(op.width);
      canvas.moveTo(first[0], first[1]);
      for (const [x, y] of rest) canvas.lineTo(x, y);
      canvas.stroke(op.color);
    } else {
      canvas.fillColor(op.color);
      canvas.fontSize(op.size);
      canvas.text(op.text, op.x, op.y, { width: op.width, align: op.align, lineBreak: false });
    }
  }
}
