import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  generateWebhookSecret,
  secretKey,
  signatureHeaders,
  verifyWebhookSignature,
} from '../src/signing.ts';

const body = JSON.stringify({ event: 'response.submitted', data: { name: 'Zoë <&>' } });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The HMAC recomputed by hand, the way a receiver would. */
function handHmac(secret: string, id: string, timestamp: number, text: string): Buffer {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest();
}

describe('generateWebhookSecret / secretKey', () => {
  it('makes whsec_ + base64 of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(secret)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('decodes the part after the prefix', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    expect(secretKey(`whsec_${key.toString('base64')}`).equals(key)).toBe(true);
  });

  it.each(['', 'whsec_', 'sk_abcd', 'abcd', 'whsec_ab!d', 'whsec_abc', 'whsec_YWJj==='])(
    'rejects the malformed secret %j',
    (secret) => {
      expect(() => secretKey(secret)).toThrow(/malformed webhook secret/);
    },
  );
});

describe('signatureHeaders', () => {
  const secret = generateWebhookSecret();
  const previous = generateWebhookSecret();

  it('returns exactly the six lower-case headers, with the hand-computed HMAC', () => {
    const headers = signatureHeaders({
      id: 'dlv_1',
      timestamp: 1_700_000_000,
      body,
      secrets: [secret],
    });
    const digest = handHmac(secret, 'dlv_1', 1_700_000_000, body);
    expect(headers).toEqual({
      'x-webhook-id': 'dlv_1',
      'x-webhook-timestamp': '1700000000',
      'x-webhook-signature': `sha256=${digest.toString('hex')}`,
      'webhook-id': 'dlv_1',
      'webhook-timestamp': '1700000000',
      'webhook-signature': `v1,${digest.toString('base64')}`,
    });
  });

  it('signs with every secret during a rotation, current first', () => {
    const headers = signatureHeaders({
      id: 'dlv_2',
      timestamp: 1_700_000_001,
      body,
      secrets: [secret, previous],
    });
    const [a, b] = [secret, previous].map((s) => handHmac(s, 'dlv_2', 1_700_000_001, body));
    expect(headers['x-webhook-signature']).toBe(
      `sha256=${a?.toString('hex')},sha256=${b?.toString('hex')}`,
    );
    expect(headers['webhook-signature']).toBe(
      `v1,${a?.toString('base64')} v1,${b?.toString('base64')}`,
    );
  });

  it('refuses no secrets, a fractional timestamp and a malformed secret', () => {
    expect(() => signatureHeaders({ id: 'x', timestamp: 1, body, secrets: [] })).toThrow(
      /at least one/,
    );
    expect(() => signatureHeaders({ id: 'x', timestamp: 1.5, body, secrets: [secret] })).toThrow(
      /timestamp/,
    );
    expect(() => signatureHeaders({ id: 'x', timestamp: 1, body, secrets: ['nope'] })).toThrow(
      /malformed/,
    );
  });
});

describe('interoperability with the standardwebhooks package', () => {
  const secret = generateWebhookSecret();
  const previous = generateWebhookSecret();

  it('verifies a request signed with one secret (the package strips whsec_ itself)', () => {
    const headers = signatureHeaders({
      id: 'dlv_3',
      timestamp: nowSeconds(),
      body,
      secrets: [secret],
    });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // Without the prefix it is the same key.
    expect(new Webhook(secret.slice('whsec_'.length)).verify(body, headers)).toEqual(
      JSON.parse(body),
    );
  });

  it('verifies with either the new or the old secret during a rotation', () => {
    const headers = signatureHeaders({
      id: 'dlv_4',
      timestamp: nowSeconds(),
      body,
      secrets: [secret, previous],
    });
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(
      /No matching signature/,
    );
  });

  it('rejects a tampered body and an old timestamp', () => {
    const fresh = signatureHeaders({
      id: 'dlv_5',
      timestamp: nowSeconds(),
      body,
      secrets: [secret],
    });
    expect(() => new Webhook(secret).verify(body.replace('Zoë', 'Eve'), fresh)).toThrow(
      /No matching signature/,
    );
    const stale = signatureHeaders({
      id: 'dlv_5',
      timestamp: nowSeconds() - 600,
      body,
      secrets: [secret],
    });
    expect(() => new Webhook(secret).verify(body, stale)).toThrow(/too old/);
  });
});

describe('verifyWebhookSignature', () => {
  const secret = generateWebhookSecret();
  const previous = generateWebhookSecret();
  const now = 1_700_000_000_000;
  const timestamp = now / 1000;
  const signed = signatureHeaders({ id: 'dlv_6', timestamp, body, secrets: [secret, previous] });
  const only = (prefix: string) =>
    Object.fromEntries(Object.entries(signed).filter(([name]) => name.startsWith(prefix)));
  const verify = (
    headers: Record<string, string>,
    opts: { secret?: string; body?: string | Buffer; now?: number } = {},
  ) =>
    verifyWebhookSignature({
      secret: opts.secret ?? secret,
      headers,
      body: opts.body ?? body,
      now: opts.now ?? now,
    });

  it('accepts either header family alone, and both together', () => {
    expect(verify(only('webhook-'))).toBe(true);
    expect(verify(only('x-webhook-'))).toBe(true);
    expect(verify(signed)).toBe(true);
  });

  it('accepts the old secret during a rotation, and a Buffer body', () => {
    expect(verify(signed, { secret: previous })).toBe(true);
    expect(verify(signed, { body: Buffer.from(body) })).toBe(true);
  });

  it('matches header names case-insensitively', () => {
    const upper = {
      'X-Webhook-Id': 'dlv_6',
      'X-Webhook-Timestamp': String(timestamp),
      'X-Webhook-Signature': signed['x-webhook-signature'] ?? '',
    };
    expect(verify(upper)).toBe(true);
  });

  it('rejects a wrong secret, a tampered body, a changed id and missing headers', () => {
    expect(verify(signed, { secret: generateWebhookSecret() })).toBe(false);
    expect(verify(signed, { body: `${body} ` })).toBe(false);
    expect(verify({ ...signed, 'webhook-id': 'dlv_7', 'x-webhook-id': 'dlv_7' })).toBe(false);
    expect(verify({})).toBe(false);
  });

  it('rejects timestamps outside the tolerance, either way', () => {
    expect(verify(signed, { now: now + 300_000 })).toBe(true);
    expect(verify(signed, { now: now + 301_000 })).toBe(false);
    expect(verify(signed, { now: now - 301_000 })).toBe(false);
    expect(
      verifyWebhookSignature({
        secret,
        headers: signed,
        body,
        now: now + 3_600_000,
        toleranceSeconds: 3600,
      }),
    ).toBe(true);
  });

  it('rejects a non-numeric timestamp', () => {
    expect(verify({ ...only('x-webhook-'), 'x-webhook-timestamp': `${timestamp}.0` })).toBe(false);
  });

  it('throws on a malformed secret rather than hiding the mistake', () => {
    expect(() => verify(signed, { secret: 'not-a-secret' })).toThrow(/malformed/);
  });
});
