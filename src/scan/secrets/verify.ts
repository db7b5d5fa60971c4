// Checks a candidate secret must pass beyond its regex. A regex only sees the shape of a
// token; these look inside it: a JWT's header must decode to a JSON object naming an
// algorithm, a Kubernetes Secret value must decode to something worth protecting, and a
// GitHub or npm token carries a CRC32 of its random part that a made-up token fails.
import { isPlaceholder } from './allowlist.ts';

/** Structural checks: a candidate that fails one is not the kind of secret its rule is about, and is dropped. */
export const VERIFIERS = {
  /**
   * A JWT: three dot-separated base64url parts whose first decodes to a JSON object naming
   * its `alg`. A header damaged in transit (a mangled character inside a value) still
   * counts when it is an object that names `alg`; random base64 that merely starts with
   * `eyJ` does not.
   */
  jwt: (secret: string): boolean => {
    const header = decodeBase64(secret.slice(0, secret.indexOf('.')));
    if (header === undefined) return false;
    try {
      const parsed: unknown = JSON.parse(header);
      return typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string';
    } catch {
      return /^\{\s*"alg"\s*:/.test(header) && header.trimEnd().endsWith('}');
    }
  },
  /** PKCS#12 content: a DER SEQUENCE (0x30) whose first element is INTEGER 3, the PFX version. */
  pkcs12: (content: string): boolean => content.charCodeAt(0) === 0x30 && content.slice(0, 8).includes('\x02\x01\x03'),
  /**
   * A base64 value from a Kubernetes Secret's `data:` map. Empty, tiny and placeholder
   * values (`changeme`, `${PASSWORD}`, one repeated character) protect nothing.
   */
  'base64-value': (secret: string): boolean => {
    const value = decodeBase64(secret)?.trim();
    return value !== undefined && value.length >= 6 && !isPlaceholder(value) && !/^(.)\1*$/s.test(value);
  },
} satisfies Record<string, (secret: string) => boolean>;

export type VerifierName = keyof typeof VERIFIERS;

/**
 * Checksums carried by a token format. Unlike a verifier, a failed checksum does not
 * drop the finding: a real token always verifies, so one that does not is most likely a
 * sample, a test value or a typo, and the engine reports it at low severity instead.
 */
export const CHECKSUMS = {
  /**
   * GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm (npm_) tokens: the last six characters
   * are the CRC32 of the 30 random characters before them, in base62 (0-9A-Za-z), left-padded with 0.
   */
  'crc32-base62': (secret: string): boolean => {
    const token = secret.slice(secret.indexOf('_') + 1);
    if (token.length !== 36) return false;
    return toBase62(crc32(token.slice(0, 30))).padStart(6, '0') === token.slice(30);
  },
} satisfies Record<string, (secret: string) => boolean>;

export type ChecksumName = keyof typeof CHECKSUMS;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function toBase62(n: number): string {
  let out = '';
  do {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE 802.3, as zlib computes it) of an ASCII string. */
export function crc32(ascii: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) crc = CRC_TABLE[(crc ^ ascii.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Standard or URL-safe base64, padded or not, to latin1 text; undefined when it is not base64. */
function decodeBase64(value: string): string | undefined {
  if (value.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) || value.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
}
