/**
 * Text as a PDF report prints it, bounded, pure. pdfkit lays text out on the event loop at
 * roughly 5 ms per KB, and a run without spaces wider than the column is broken character
 * by character in quadratic time (16 KB took 29 s and 600 MB). So an answer is cut at
 * `PDF_VALUE_CHARS` characters (the exports in other formats keep it whole), and a run of
 * more than `PDF_MAX_RUN` characters without a space gets a space every `PDF_MAX_RUN`.
 */

/** Characters of one answer a report prints (about two thirds of a page). */
export const PDF_VALUE_CHARS = 2_000;
/** Longest run of characters without white space a report prints unbroken. */
export const PDF_MAX_RUN = 48;

const LONG_RUN = new RegExp(`\\S{${PDF_MAX_RUN + 1},}`, 'g');
const EVERY_RUN = new RegExp(`(\\S{${PDF_MAX_RUN}})(?=\\S)`, 'g');

/**
 * The answer cut at `maxChars` (at a code point boundary) with `truncated` ("{more}" filled
 * in) appended, and long runs broken.
 *
 * @example boundText('x'.repeat(5000), ' [{more} more]', 10) // 'xxxxxxxxxx [4990 more]'
 */
export function boundText(text: string, truncated: string, maxChars = PDF_VALUE_CHARS): string {
  let shown = text;
  let suffix = '';
  if (text.length > maxChars) {
    let end = maxChars;
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1; // do not split a surrogate pair
    shown = text.slice(0, end);
    suffix = truncated.replaceAll('{more}', String(text.length - end));
  }
  return flat(breakLongRuns(shown) + suffix);
}

/**
 * A copy of `text` that does not point into the string it was cut from. V8 represents a
 * slice as a view of its parent, and pdfkit keeps slices of what it prints (its word cache):
 * 2,000 characters cut from a 1 MiB answer kept the whole MiB alive (+157 MB over 100 such
 * responses).
 */
function flat(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

/** Inserts a space every `PDF_MAX_RUN` characters of any run without white space. */
export function breakLongRuns(text: string): string {
  return text.replace(LONG_RUN, (run) => run.replace(EVERY_RUN, '$1 '));
}
