import { createHash } from 'node:crypto';
import type { DependencyFinding, PackageRef, Severity } from '../../types.ts';
import { SEVERITY_RANK } from '../../types.ts';
import { compareVersions } from '../versions/index.ts';
import { fixesAbove, isAffected } from './affected.ts';
import type { IndexedAdvisory } from './types.ts';
import type { VulnIndex } from './vuln-index.ts';

/**
 * Checks each package against the advisories for its name. Records that describe the same
 * vulnerability (a GHSA and the PYSEC or RUSTSEC record it aliases) are merged into one
 * finding, so a package is reported once per vulnerability. Packages with a `source` (git,
 * archive, path) are skipped.
 */
export function matchPackages(db: VulnIndex, packages: readonly PackageRef[]): DependencyFinding[] {
  const findings = new Map<string, DependencyFinding>();
  for (const pkg of packages) {
    // Git, archive and project-local packages are not the registry releases advisories name.
    if (pkg.source) continue;
    const hits: { advisory: IndexedAdvisory; fixes: string[] }[] = [];
    for (const advisory of db.advisoriesFor(pkg.ecosystem, pkg.name)) {
      const matched = advisory.affected.filter((a) => isAffected(pkg.version, pkg.ecosystem, a));
      if (matched.length > 0) hits.push({ advisory, fixes: matched.flatMap((a) => fixesAbove(pkg.version, pkg.ecosystem, a)) });
    }
    for (const group of groupByAlias(hits)) {
      const finding = toFinding(pkg, group);
      const earlier = findings.get(finding.fingerprint);
      // The same package can sit in several places of one lockfile; report its first line once.
      if (!earlier || (finding.line > 0 && finding.line < earlier.line)) findings.set(finding.fingerprint, finding);
    }
  }
  return [...findings.values()];
}

type Hit = { advisory: IndexedAdvisory; fixes: string[] };

/** Union of hits whose ids or aliases overlap. */
function groupByAlias(hits: Hit[]): Hit[][] {
  if (hits.length <= 1) return hits.map((h) => [h]);
  const parent = hits.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] ?? i] ?? i;
    return i;
  };
  const owner = new Map<string, number>();
  hits.forEach((hit, i) => {
    for (const id of [hit.advisory.id, ...hit.advisory.aliases]) {
      const j = owner.get(id);
      if (j === undefined) owner.set(id, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Hit[]>();
  hits.forEach((hit, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), hit]);
  });
  return [...groups.values()];
}

function primaryId(ids: string[], recordIds: string[]): string {
  return ids.find((id) => id.startsWith('GHSA-')) ?? recordIds[0] ?? ids[0] ?? '';
}

function toFinding(pkg: PackageRef, group: Hit[]): DependencyFinding {
  const recordIds = group.map((h) => h.advisory.id).sort();
  const ids = [...new Set(group.flatMap((h) => [h.advisory.id, ...h.advisory.aliases]))].sort();
  const advisory = primaryId(ids, recordIds);
  const aliases = ids.filter((id) => id !== advisory);
  const primary = group.find((h) => h.advisory.id === advisory) ?? group.find((h) => h.advisory.summary) ?? group[0];
  const summary = primary?.advisory.summary ?? '';
  const severity = group.reduce<Severity>(
    (worst, h) => (SEVERITY_RANK[h.advisory.severity] > SEVERITY_RANK[worst] ? h.advisory.severity : worst),
    'low',
  );
  // The lowest fix that no merged record still counts as affected (a later span may re-open it).
  const fixedVersion = [...new Set(group.flatMap((h) => h.fixes))]
    .sort((a, b) => compareVersions(pkg.ecosystem, a, b))
    .find((candidate) => !group.some((h) => h.advisory.affected.some((a) => isAffected(candidate, pkg.ecosystem, a))));
  const fingerprint = createHash('sha256')
    .update([pkg.ecosystem, pkg.name, pkg.version, advisory, pkg.path].join('\u0000'))
    .digest('hex');
  const also = aliases.length > 0 ? ` (${aliases.join(', ')})` : '';
  const advice = fixedVersion ? `upgrade to ${fixedVersion} or later` : 'no fixed version is known';
  return {
    kind: 'dependency',
    ruleId: advisory,
    severity,
    path: pkg.path,
    line: pkg.line,
    fingerprint,
    message: `${pkg.name} ${pkg.version} is affected by ${advisory}${also}${summary ? `: ${summary.replace(/[.\s]+$/, '')}` : ''}; ${advice}.`,
    ecosystem: pkg.ecosystem,
    package: pkg.name,
    version: pkg.version,
    advisory,
    aliases,
    summary,
    ...(fixedVersion ? { fixedVersion } : {}),
    url: `https://osv.dev/vulnerability/${encodeURIComponent(advisory)}`,
  };
}
