import { createHash, randomBytes } from 'node:crypto';

/** A random, URL-safe secret token with a readable prefix, e.g. `fh_live_...`. */
export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/**
 * SHA-256 of a high-entropy token, hex. Tokens are 256-bit random values, so a fast
 * hash is enough: nothing can be guessed from it, and lookups by hash stay O(1).
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
