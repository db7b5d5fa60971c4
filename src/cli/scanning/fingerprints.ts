import type { RepoScanConfig } from '../../scan/repo-config/types.ts';
import { FileScan, type ScanFilesOptions } from '../../scan/scan-files.ts';
import { SecretScanner } from '../../scan/secrets/engine.ts';
import { cliFingerprintKey, keyFinding } from '../../scan/secrets/fingerprint.ts';
import type { Finding } from '../../scan/types.ts';

/** The key GATEHOUSE_FINGERPRINT_KEY names, if set: secret fingerprints and hashes are then HMACs under it. */
export function fingerprintKeyOf(env: NodeJS.ProcessEnv): Buffer | undefined {
  const text = env.GATEHOUSE_FINGERPRINT_KEY;
  return text ? cliFingerprintKey(text) : undefined;
}

/**
 * A FileScan of one root. With a key its scanner also honours `.gitleaksignore` entries in
 * the keyed form this command prints. Built the same way in the main thread and in every
 * scan thread, so a scan's output does not depend on how it was split.
 */
export function newFileScan(config: RepoScanConfig, key: Buffer | undefined, options: Omit<ScanFilesOptions, 'config' | 'scanner'> = {}): FileScan {
  return new FileScan({ ...options, config, ...(key ? { scanner: new SecretScanner({ config, fingerprintKey: key }) } : {}) });
}

/** A root's findings with their secret fingerprints keyed (fingerprint.ts says why); done on root-relative paths. */
export function keySecretFindings(findings: Finding[], key: Buffer | undefined): Finding[] {
  return key ? findings.map((f) => (f.kind === 'secret' ? keyFinding(f, key) : f)) : findings;
}
