import { measureJson } from '../common/index.ts';

/** A response's `metadata`: at most 16 KB serialized and 16 levels deep (DESIGN.md 3a). */
export const METADATA_LIMITS = { maxBytes: 16 * 1024, maxDepth: 16 } as const;

/**
 * Why `metadata` is too big, or null. Measured without serializing it, so a value nested
 * 10,000 levels deep is refused rather than overflowing the stack on its way to the database.
 *
 * @example metadataProblem({ utm: 'mail' }); // null
 */
export function metadataProblem(metadata: unknown): string | null {
  const { depth, bytes } = measureJson(metadata, METADATA_LIMITS);
  if (depth > METADATA_LIMITS.maxDepth)
    return `must not be nested deeper than ${METADATA_LIMITS.maxDepth} levels`;
  if (bytes > METADATA_LIMITS.maxBytes)
    return `must be at most ${METADATA_LIMITS.maxBytes} bytes as JSON`;
  return null;
}
