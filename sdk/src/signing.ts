import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The prefix of every webhook secret (the Standard Webhooks convention). */
export const SECRET_PREFIX = 'whsec_';

/** Strict standard base64 (with padding), as `whsec_` secrets are written. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A new webhook signing secret: `whsec_` + base64 of 32 random bytes.
 *
 * @example generateWebhookSecret(); // 'whsec_q3l1...='
 */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * The HMAC key of a secret: the base64-decoded part after `whsec_`.
 * Throws on anything else; the message never repeats the secret.
 *
 * @example secretKey(generateWebhookSecret()).length; // 32
 */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new TypeError(`malformed webhook secret: it must start with ${SECRET_PREFIX}`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded === '' || !BASE64.test(encoded)) {
    throw new TypeError('malformed webhook secret: the part after the prefix must be base64');
  }
  return Buffer.from(encoded, 'base64');
}

/** What is signed for one attempt. */
export interface SignatureInput {
  /** The delivery id, the same on every attempt. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact request body. */
  body: string;
  /** The current secret first, then the previous one during the 24 h rotation grace. */
  secrets: readonly string[];
}

/** Keys of the secrets that signed lately (a sender signs with the same few secrets again and again). */
const recentKeys = new Map<string, Buffer>();
const RECENT_KEYS = 256;

/** `secretKey`, remembered for the last RECENT_KEYS secrets. */
function signingKey(secret: string): Buffer {
  let key = recentKeys.get(secret);
  if (!key) {
    key = secretKey(secret);
    if (recentKeys.size >= RECENT_KEYS) recentKeys.delete(recentKeys.keys().next().value!);
    recentKeys.set(secret, key);
  }
  return key;
}

/** HMAC-SHA256(key, `${id}.${timestamp}.${body}`). */
function hmac(key: Buffer, id: string, timestamp: number | string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/**
 * The signature headers of one attempt, keys in lower case so they merge into
 * undici headers without duplicates: `x-webhook-id`, `x-webhook-timestamp`,
 * `x-webhook-signature` (`sha256=<hex>`, comma-separated per secret) and the
 * Standard Webhooks `webhook-id`, `webhook-timestamp`, `webhook-signature`
 * (`v1,<base64>`, space-separated per secret).
 *
 * @example
 * signatureHeaders({ id: 'dlv_1', timestamp: 1700000000, body: '{}', secrets: [secret] });
 * // { 'x-webhook-id': 'dlv_1', ..., 'webhook-signature': 'v1,K5o...=' }
 */
export function signatureHeaders(input: SignatureInput): Record<string, string> {
  const { id, timestamp, body, secrets } = input;
  if (secrets.length === 0) throw new TypeError('at least one secret is needed to sign');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('timestamp must be a non-negative integer of unix seconds');
  }
  const digests = secrets.map((secret) => hmac(signingKey(secret), id, timestamp, body));
  const stamp = String(timestamp);
  return {
    'x-webhook-id': id,
    'x-webhook-timestamp': stamp,
    'x-webhook-signature': digests.map((d) => `sha256=${d.toString('hex')}`).join(','),
    'webhook-id': id,
    'webhook-timestamp': stamp,
    'webhook-signature': digests.map((d) => `v1,${d.toString('base64')}`).join(' '),
  };
}

/** Incoming request headers, as node's `IncomingHttpHeaders` or a plain record. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What a receiver checks. */
export interface VerifyInput {
  secret: string;
  headers: HeaderBag;
  /** The raw body exactly as received (not re-serialised JSON). */
  body: string | Buffer;
  /** How far the timestamp may be from now, either way. Default 300. */
  toleranceSeconds?: number;
  /** The current time in milliseconds (`Date.now()` by default). */
  now?: number;
}

/** One header family: the header names and how its signature list is written. */
interface Family {
  id: string;
  timestamp: string;
  signature: string;
  split: (value: string) => string[];
  encode: (digest: Buffer) => string;
}

const FAMILIES: readonly Family[] = [
  {
    id: 'webhook-id',
    timestamp: 'webhook-timestamp',
    signature: 'webhook-signature',
    split: (value) => value.split(' '),
    encode: (digest) => `v1,${digest.toString('base64')}`,
  },
  {
    id: 'x-webhook-id',
    timestamp: 'x-webhook-timestamp',
    signature: 'x-webhook-signature',
    split: (value) => value.split(','),
    encode: (digest) => `sha256=${digest.toString('hex')}`,
  },
];

/** A header's single value, looked up case-insensitively. */
function header(headers: HeaderBag, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.join(',');
  }
  return undefined;
}

/** Constant-time equality of two strings (their lengths are not secret). */
function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Whether one header family is present, fresh and carries a matching signature. */
function verifyFamily(input: VerifyInput, key: Buffer, family: Family): boolean {
  const id = header(input.headers, family.id);
  const stamp = header(input.headers, family.timestamp);
  const signatures = header(input.headers, family.signature);
  if (id === undefined || stamp === undefined || signatures === undefined) return false;
  if (!/^\d{1,15}$/.test(stamp)) return false;
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(stamp)) > (input.toleranceSeconds ?? 300)) return false;
  const expected = family.encode(hmac(key, id, stamp, input.body));
  return family.split(signatures).some((candidate) => safeEqual(candidate.trim(), expected));
}

/**
 * Verifies a formhub webhook request, for receivers. Either header family is
 * accepted (`x-webhook-*` or the Standard Webhooks `webhook-*`); any of the
 * listed signatures may match (both are sent during a secret rotation); a
 * timestamp more than `toleranceSeconds` from now is rejected. A malformed
 * secret is the receiver's own mistake and throws rather than returning false.
 *
 * @example
 * verifyWebhookSignature({ secret: 'whsec_...', headers: req.headers, body: rawBody });
 */
export function verifyWebhookSignature(input: VerifyInput): boolean {
  const key = secretKey(input.secret);
  return FAMILIES.some((family) => verifyFamily(input, key, family));
}
