const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `30s`, `5m`, `1h` or `2d` into milliseconds.
 * A bare number is milliseconds. Returns null when the text is not a duration.
 *
 * @example parseDuration('5m') // 300000
 */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return null;
  const value = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  return Number.isFinite(value) ? Math.round(value) : null;
}

/** Parses a comma-separated list of durations (`1s,5s,30s`); null if any part is not one. */
export function parseDurationList(text: string): number[] | null {
  const parts = text.split(',').map((part) => parseDuration(part));
  return parts.every((ms): ms is number => ms !== null) ? parts : null;
}
