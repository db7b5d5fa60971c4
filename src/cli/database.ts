import path from 'node:path';
import type { VulnIndex } from '../scan/deps/osv/vuln-index.ts';
import type { CliIo } from './io.ts';

/** DATA_DIR as the server reads it (CONTRACT.md): default ./data, relative to the working directory. */
export function dataDirOf(io: CliIo): string {
  const value = io.env.DATA_DIR?.trim();
  return path.resolve(io.cwd, value ? value : './data');
}

/**
 * The vulnerability database, or null with a notice saying why dependencies will not be
 * checked. A scan without a database still reports secrets, so neither case is an error.
 * Loaded on demand: a scan opens it only once it has packages to check.
 */
export async function openDatabase(io: CliIo, notices: string[]): Promise<VulnIndex | null> {
  const { VulnIndexError, openVulnIndex } = await import('../scan/deps/osv/index.ts');
  const dataDir = dataDirOf(io);
  try {
    const index = openVulnIndex(dataDir);
    if (!index) notices.push(`No vulnerability database in ${dataDir}: run \`gatehouse db update\` to check dependencies for known vulnerabilities.`);
    return index;
  } catch (error) {
    if (!(error instanceof VulnIndexError)) throw error;
    notices.push(`The vulnerability database cannot be used (${error.message}); dependencies were not checked.`);
    return null;
  }
}
