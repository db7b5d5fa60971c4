// Public surface of dependency scanning: lockfiles in, vulnerable-dependency findings out.
export { ParseError } from './errors.ts';
export { isDependencyFile, parseLockfile } from './parse.ts';
export { DependencyFileSet } from './file-set.ts';
export { compareVersions } from './versions/index.ts';
export { matchPackages } from './osv/match.ts';
export { openVulnIndex, VulnIndexError } from './osv/index.ts';
export { createMemoryIndex, type VulnIndex } from './osv/vuln-index.ts';
export { normalizePackageName } from './osv/names.ts';
export { cvss3BaseScore } from './osv/cvss.ts';
export type { IndexedAdvisory, OsvRecord } from './osv/types.ts';
export type { DependencyFinding, Ecosystem, PackageRef } from '../types.ts';

/** What a scan says when no vulnerability database has been downloaded. */
export const NO_VULN_DB_MESSAGE = 'no vulnerability database; run gatehouse db update';
