import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, safeEqual, sha256Hex } from './crypto.ts';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const secret = 'shared-secret-Zx9qW2e4R6t8Y0u1I3o5P7a9S1d3F5g7';

function flipChar(value: string): string {
  const c = value[0] === 'A' ? 'B' : 'A';
  return c + value.slice(1);
}

describe('encryptSecret / decryptSecret', () => {
  it('round-trips text, including empty and non-ASCII', () => {
    for (const text of [secret, '', 'clé secrète ✓ 🔑']) {
      expect(decryptSecret(key, encryptSecret(key, text))).toBe(text);
    }
  });

  it('produces a versioned envelope that does not contain the secret', () => {
    const envelope = encryptSecret(key, secret);
    expect(envelope).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain(secret);
    expect(envelope).not.toContain(Buffer.from(secret).toString('base64url'));
  });

  it('uses a fresh IV each time', () => {
    const a = encryptSecret(key, secret);
    const b = encryptSecret(key, secret);
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('rejects the wrong key without revealing the secret', () => {
    const envelope = encryptSecret(key, secret);
    expect(() => decryptSecret(otherKey, envelope)).toThrow(/wrong encryption key or tampered envelope/);
    try {
      decryptSecret(otherKey, envelope);
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(secret);
      expect(String((err as Error).message)).not.toContain(envelope);
    }
  });

  it('rejects tampering with IV, tag or ciphertext', () => {
    const [v, iv, tag, ct] = encryptSecret(key, secret).split('.') as [string, string, string, string];
    for (const tampered of [
      [v, flipChar(iv), tag, ct],
      [v, iv, flipChar(tag), ct],
      [v, iv, tag, flipChar(ct)],
      [v, iv, tag, ct.slice(0, -2)],
    ]) {
      expect(() => decryptSecret(key, tampered.join('.'))).toThrow(/cannot decrypt secret/);
    }
  });

  it('rejects malformed envelopes with a clear error', () => {
    const good = encryptSecret(key, secret);
    for (const bad of ['', 'v1', 'v2' + good.slice(2), good + '.x', good.replace(/\.[^.]+\./, '.***.'), 'v1.AAAA.AAAA.AAAA']) {
      expect(() => decryptSecret(key, bad)).toThrow(/cannot decrypt secret: (not a v1|malformed v1) envelope/);
    }
    expect(() => decryptSecret(key, 42 as unknown as string)).toThrow(/not a v1 envelope/);
  });

  it('requires a 32-byte key', () => {
    expect(() => encryptSecret(Buffer.alloc(16), secret)).toThrow('encryption key must be 32 bytes');
    expect(() => decryptSecret(Buffer.alloc(33), 'v1.a.b.c')).toThrow('encryption key must be 32 bytes');
  });
});

describe('sha256Hex', () => {
  it('matches the known digest of "abc" for strings and buffers', () => {
    const expected = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(expected);
    expect(sha256Hex(Buffer.from('abc'))).toBe(expected);
  });
});

describe('safeEqual', () => {
  it('is true only for identical strings', () => {
    const token = randomBytes(24).toString('hex');
    expect(safeEqual(token, token.slice())).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual(token, token.slice(0, -1) + (token.endsWith('0') ? '1' : '0'))).toBe(false);
  });

  it('handles different lengths without throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
  });

  it('returns false for non-strings instead of throwing', () => {
    expect(safeEqual(undefined as unknown as string, 'a')).toBe(false);
  });
});
