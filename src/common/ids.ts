import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in bulk: one system call per 256 ids instead of one per id. */
const pool = Buffer.alloc(16 * 256);
let poolOffset = pool.length;

function random16(): Buffer {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

const last = { ms: 0, seq: 0 };

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids
 * sort by creation time and keep B-tree inserts local.
 *
 * @example uuidv7() // '019acb2e-5f1a-7c3d-8e4f-0123456789ab'
 */
export function uuidv7(at?: number): string {
  const bytes = random16();
  let now = at ?? Date.now();
  // Without an explicit time, ids are monotonic within this process: a later call never
  // sorts before an earlier one (RFC 9562 method 1: a 12-bit counter in rand_a, seeded
  // randomly each millisecond). An explicit time (imported history) is used as given.
  if (at !== undefined) {
    bytes.writeUIntBE(now, 0, 6);
  } else if (now <= last.ms) {
    now = last.ms;
    last.seq += 1;
    if (last.seq > 0xfff) {
      now = last.ms + 1;
      last.seq = 0;
    }
  } else {
    last.seq = bytes.readUInt16BE(6) & 0x7ff;
  }
  if (at === undefined) {
    last.ms = now;
    bytes.writeUIntBE(now, 0, 6);
    bytes.writeUInt16BE(last.seq, 6);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID; anything else can never name a row. */
export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/**
 * The canonical (lower-case) form of an id: UUIDs are case-insensitive, and caches, rate
 * limits and SQL parameters must see one spelling. Anything that is not a UUID is returned
 * as it is.
 *
 * @example normaliseId('0190ABCD-0000-7000-8000-00000000000A') // '0190abcd-0000-7000-8000-00000000000a'
 */
export function normaliseId<T>(value: T): T {
  return typeof value === 'string' && UUID_RE.test(value) ? (value.toLowerCase() as T) : value;
}
