import { AppError } from '../errors/index.ts';

/**
 * Passes chunks through until more than `maxBytes` have gone by, then fails with 413.
 * Streamed bodies skip fastify's own body limit, so the import route enforces it here.
 */
export async function* limitBytes(
  source: AsyncIterable<Buffer | string>,
  maxBytes: number,
): AsyncGenerator<Buffer | string> {
  let seen = 0;
  for await (const chunk of source) {
    seen += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (seen > maxBytes) {
      throw new AppError('payload_too_large', `the import body is larger than ${maxBytes} bytes`);
    }
    yield chunk;
  }
}
