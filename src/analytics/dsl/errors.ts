import { invalidRequest, type AppError } from '../../errors/index.ts';

/** How much of a user-supplied name an error message repeats. */
const SHOWN_CHARS = 100;
/** How much of it `details` repeat: a whole path 32 levels deep, not a 1 MiB key echoed back. */
const DETAIL_CHARS = 1000;

/**
 * The 400 for a bad part of a query: `where` names the part as a path into the request
 * (`filter.data.age.$gt`, `group_by[1]`), `message` says what is wrong with it.
 *
 * @example throw dslError('filter.data.age.$gt', 'must be a number');
 */
export function dslError(where: string, message: string): AppError {
  const shown = where.length > SHOWN_CHARS ? `${where.slice(0, SHOWN_CHARS)}...` : where;
  const field = where.length > DETAIL_CHARS ? `${where.slice(0, DETAIL_CHARS)}...` : where;
  return invalidRequest(`invalid query: ${shown} ${message}`, [{ field, message }]);
}

/** `where` extended by an object key (`filter` + `data.age` -> `filter.data.age`). */
export const at = (where: string, key: string): string => `${where}.${key}`;

/** `where` extended by an array index (`filter.$and` + 2 -> `filter.$and[2]`). */
export const atIndex = (where: string, index: number): string => `${where}[${index}]`;

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
