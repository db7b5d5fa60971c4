import { createHash } from 'node:crypto';

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
