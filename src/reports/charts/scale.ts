/** Pure numeric helpers for charts: linear scales, "nice" axis ticks, percentages. */

/** A linear map from a numeric domain onto a numeric range (e.g. values onto points). */
export type LinearScale = (value: number) => number;

/** Maps `domain` linearly onto `range`; a zero-width domain maps everything to the range's start. */
export function linearScale(
  domain: readonly [number, number],
  range: readonly [number, number],
): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  if (span === 0) return () => r0;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** Axis ticks: evenly spaced round numbers covering [min, max]. */
export interface Ticks {
  min: number;
  max: number;
  step: number;
  values: number[];
}

/**
 * Heckbert's "nice numbers": about `count` ticks at a step of 1, 2 or 5 times a power of ten,
 * the first at or below `min` and the last at or above `max`. With `integer`, the step is at least 1
 * (counts never get a 0.5 tick).
 */
export function niceTicks(min: number, max: number, count = 5, integer = false): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    throw new RangeError('niceTicks needs finite bounds');
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    if (min === 0) max = 1;
    else if (min > 0) min = 0;
    else max = 0;
  }
  let step = niceNumber((max - min) / Math.max(1, count - 1), true);
  if (integer) step = Math.max(1, Math.round(step));
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const values: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) values.push(roundTo(v, step));
  return { min: lo, max: hi, step, values };
}

/** The nice number (1, 2, 5 or 10 times a power of ten) nearest to `x`, or just above it. */
export function niceNumber(x: number, round: boolean): number {
  if (x <= 0) return 1;
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return Number(value.toFixed(decimals));
}

/** `part` as a percentage of `total`, rounded to `decimals`; 0 when the total is 0. */
export function percentage(part: number, total: number, decimals = 0): number {
  if (total <= 0) return 0;
  const factor = 10 ** decimals;
  return Math.round((part / total) * 100 * factor) / factor;
}

/** Formats a tick value compactly: 1200 -> "1.2k", 3000000 -> "3M", 0.25 -> "0.25". */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1_000_000) return `${trim(value / 1_000_000)}M`;
  if (abs >= 10_000) return `${trim(value / 1_000)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toFixed(2)));
}

/**
 * Which of `count` category labels to print so that they don't overlap: every `k`-th one,
 * where each label needs `labelWidth` points and the axis is `axisWidth` points long.
 */
export function labelStride(count: number, axisWidth: number, labelWidth: number): number {
  if (count <= 0 || labelWidth <= 0) return 1;
  const fit = Math.max(1, Math.floor(axisWidth / labelWidth));
  return Math.max(1, Math.ceil(count / fit));
}
