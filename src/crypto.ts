import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tenant shared secrets are stored as an AES-256-GCM envelope:
 *
 *   v1.<iv>.<tag>.<ciphertext>      (each part base64url, no padding)
 *
 * The version prefix lets a later format (or key rotation with a key id) sit beside old
 * envelopes. The IV is 12 random bytes per envelope, never reused with the same key; the
 * 16-byte tag makes any change to IV, tag or ciphertext fail decryption. Errors name what
 * went wrong but never include the plaintext or the envelope.
 */

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new Error(`encryption key must be ${KEY_BYTES} bytes`);
  }
}

export function encryptSecret(key: Buffer, plaintext: string): string {
  checkKey(key);
  if (typeof plaintext !== 'string') throw new Error('secret to encrypt must be a string');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function decryptSecret(key: Buffer, envelope: string): string {
  checkKey(key);
  const parts = typeof envelope === 'string' ? envelope.split('.') : [];
  if (parts.length !== 4 || parts[0] !== VERSION || !parts.slice(1).every((p) => BASE64URL.test(p))) {
    throw new Error(`cannot decrypt secret: not a ${VERSION} envelope`);
  }
  const iv = Buffer.from(parts[1] ?? '', 'base64url');
  const tag = Buffer.from(parts[2] ?? '', 'base64url');
  const ciphertext = Buffer.from(parts[3] ?? '', 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new Error(`cannot decrypt secret: malformed ${VERSION} envelope`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // OpenSSL's message ("Unsupported state or unable to authenticate data") says nothing
    // useful; the two real causes are these.
    throw new Error('cannot decrypt secret: wrong encryption key or tampered envelope');
  }
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Constant-time string comparison. Both sides are hashed first so that inputs of different
 * lengths compare in the same time as equal-length ones (timingSafeEqual alone throws on a
 * length mismatch, and an early length check would leak the length).
 */
export function safeEqual(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
