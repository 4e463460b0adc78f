import { isUuid } from '../common/index.ts';
import { invalidRequest } from '../errors/index.ts';

/**
 * Opaque pagination cursors: base64url of a small JSON value naming the last row seen.
 *
 * @example encodeCursor({ t: '2026-11-28T10:00:00.000Z', id: '0193...' })
 */
export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor with these keys; 400 when it is not one. */
export function decodeCursor<K extends string>(
  cursor: string,
  keys: readonly K[],
): Record<K, string> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const ok =
    typeof value === 'object' &&
    value !== null &&
    keys.every((k) => typeof (value as Record<string, unknown>)[k] === 'string');
  if (!ok)
    throw invalidRequest('cursor is not valid', [
      { field: 'cursor', message: 'not a cursor from this API' },
    ]);
  return value as Record<K, string>;
}

const notACursor = () =>
  invalidRequest('cursor is not valid', [
    { field: 'cursor', message: 'not a cursor from this API' },
  ]);

/** An instant exactly as `toISOString` writes it, of years 1-9999 (what PostgreSQL stores). */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;

/**
 * Decodes a `{t, id}` keyset cursor (an instant and a UUID). `t` must be what `toISOString`
 * wrote for a year 1-9999: `new Date` alone takes `-271821-04-20T00:00:00Z`, which
 * PostgreSQL refuses (a 500 before this check).
 *
 * @example decodeTimeCursor(cursor) // { at: Date, id: '0193...' }
 */
export function decodeTimeCursor(cursor: string): { at: Date; id: string } {
  const { t, id } = decodeCursor(cursor, ['t', 'id']);
  const match = ISO_INSTANT.exec(t);
  const at = new Date(match && match[1] !== '0000' ? t : Number.NaN);
  // A rolled-over date (02-30 read as 03-02) is not one toISOString wrote.
  if (!isUuid(id) || Number.isNaN(at.getTime()) || at.toISOString() !== t) throw notACursor();
  return { at, id };
}

/** Decodes an `{id}` cursor, checking the id is a UUID. */
export function decodeIdCursor(cursor: string): string {
  const { id } = decodeCursor(cursor, ['id']);
  if (!isUuid(id))
    throw invalidRequest('cursor is not valid', [
      { field: 'cursor', message: 'not a cursor from this API' },
    ]);
  return id;
}

/**
 * One page of a listing fetched with `limit + 1` rows: the first `limit`, presented, and
 * the cursor of the last one when there is more.
 *
 * @example pageOf(rows, 50, (r) => ({ id: r.id }), present)
 */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  position: (row: R) => Record<string, string>,
  present: (row: R) => T,
): { data: T[]; next_cursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    data: shown.map(present),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null,
  };
}
