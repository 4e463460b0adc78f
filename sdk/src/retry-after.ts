/** The three HTTP-date forms (IMF-fixdate, RFC 850, asctime) all begin with a day name. */
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s/i;

/**
 * A `Retry-After` header value (delta-seconds or an HTTP-date) as a delay in
 * milliseconds from `now`; a date in the past is 0. `null` when absent or
 * unparseable (e.g. `1.5`, `-3`, `soon`).
 *
 * @example parseRetryAfter('120', Date.now()); // 120000
 * @example parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')); // 60000
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | null {
  if (value == null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!HTTP_DATE.test(text)) return null;
  // asctime carries no zone, but every HTTP-date is GMT; Date.parse would read it as local time.
  const at = Date.parse(/\b(?:GMT|UTC)$/i.test(text) ? text : `${text} GMT`);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
