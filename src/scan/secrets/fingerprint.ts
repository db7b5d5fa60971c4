import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { SecretFinding } from '../types.ts';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Gatehouse fingerprint of a secret finding: sha256 hex of `ruleId:path:secretHash`.
 * It leaves out the line on purpose, so the finding keeps its identity (and any
 * suppression keyed on it) when code above the secret moves it to another line.
 */
export function findingFingerprint(ruleId: string, path: string, secretHash: string): string {
  return sha256Hex(`${ruleId}:${path}:${secretHash}`);
}

/**
 * The gitleaks form, `path:ruleId:line`, which `.gitleaksignore` files list (gitleaks
 * prefixes `commit:` in git mode). Accepted when matching ignore entries so existing
 * `.gitleaksignore` files keep working; it does not survive line moves.
 */
export function gitleaksFingerprint(path: string, ruleId: string, line: number): string {
  return `${path}:${ruleId}:${line}`;
}

/**
 * Why fingerprints are keyed: the engine's digests are plain sha256 (of the secret, and of
 * rule, path and that digest), so anyone holding one (a copy of DATA_DIR, a SARIF file, a
 * panel) can confirm a guessed weak password offline by hashing the guess. Under an HMAC key
 * they confirm nothing without the key, and stay as stable as before: the same rule, path and
 * secret give the same fingerprint under the same key.
 *
 * `finding` is the engine's output (secretHash = sha256 of the secret, fingerprint in the
 * unkeyed form, which is what marks and ignore entries made before keys hold).
 */
export function keyFinding<F extends SecretFinding>(finding: F, key: Buffer): F {
  return { ...finding, secretHash: hmacHex(key, `secret:${finding.secretHash}`), fingerprint: keyedFingerprint(finding, key) };
}

/** The fingerprint keyFinding gives a finding, alone (for matching ignore entries). */
export function keyedFingerprint(finding: Pick<SecretFinding, 'ruleId' | 'path' | 'secretHash'>, key: Buffer): string {
  return hmacHex(key, `${finding.ruleId}:${finding.path}:${finding.secretHash}`);
}

/**
 * One installation's fingerprint key: HKDF-SHA256 of the app's master key (ENCRYPTION_KEY)
 * with the clientKey as salt, so no two installations can compare findings, and the key never
 * needs storing.
 */
export function installationFingerprintKey(masterKey: Buffer, clientKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, clientKey, 'gatehouse/finding-fingerprint/v1', 32));
}

/** The command line's key, from any non-empty text (GATEHOUSE_FINGERPRINT_KEY). */
export function cliFingerprintKey(text: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(text, 'utf8'), Buffer.alloc(0), 'gatehouse/cli-fingerprint/v1', 32));
}

function hmacHex(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
