import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/secrets/index.ts';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips text and JSON, with a fresh nonce each time', () => {
    const a = box.seal('xoxb-secret');
    const b = box.seal('xoxb-secret');
    expect(a).not.toBe(b);
    expect(a).not.toContain('xoxb');
    expect(box.open(a)).toBe('xoxb-secret');
    expect(box.openJson(box.sealJson({ token: 't', n: 1 }))).toEqual({ token: 't', n: 1 });
  });

  it('refuses tampered or foreign ciphertexts', () => {
    const sealed = box.seal('hello');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1.${raw.toString('base64')}`)).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
    expect(() => box.open('plain')).toThrow('not a sealed secret');
  });

  it('insists on a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('32 bytes');
  });
});
