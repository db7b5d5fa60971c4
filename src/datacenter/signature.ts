import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Hub-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body with the webhook secret.
 * Checked on the bytes as received, before anything parses them.
 */

const HEADER = /^sha256=([0-9a-fA-F]{64})$/;

export type SignatureHeader = { ok: true; digest: Buffer } | { ok: false; problem: 'missing' | 'malformed' };

export function parseSignatureHeader(value: string | undefined): SignatureHeader {
  if (value === undefined || value === '') return { ok: false, problem: 'missing' };
  const match = HEADER.exec(value.trim());
  return match ? { ok: true, digest: Buffer.from(match[1]!, 'hex') } : { ok: false, problem: 'malformed' };
}

export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * True when the digest is the body's HMAC under any of the secrets. Every secret is tried and
 * compared in constant time whatever matched, so the time taken says nothing about which
 * secret (current or previous) matched, or whether any did; callers pass the same number
 * of secrets in every case.
 */
export function matchesAny(body: Buffer, digest: Buffer, secrets: readonly string[]): boolean {
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    matched = timingSafeEqual(expected, digest) || matched;
  }
  return matched;
}
