/** How much of a response body an attempt log keeps. */
export const EXCERPT_BYTES = 20 * 1024;

/** Whether a byte continues a multi-byte UTF-8 sequence (10xxxxxx). */
const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

/**
 * The first `max` bytes of a response body as text, cut on a UTF-8 character
 * boundary so no character is split. NUL characters become U+FFFD, because a
 * PostgreSQL `text` column cannot hold them and one would fail the attempt log.
 *
 * @example excerpt('héllo', 2); // 'h' (the two bytes of 'é' do not fit)
 */
export function excerpt(body: Buffer | string, max: number = EXCERPT_BYTES): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let end = Math.max(0, Math.min(Math.floor(max), bytes.length));
  if (end < bytes.length) {
    // Step back over at most three continuation bytes to the start of the split character.
    const floor = Math.max(0, end - 3);
    while (end > floor && isContinuation(bytes[end] ?? 0)) end -= 1;
  }
  return bytes.subarray(0, end).toString('utf8').replaceAll('\u0000', '\uFFFD');
}
