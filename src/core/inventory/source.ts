import { purlOf } from '../../scan/sbom/purl.ts';
import { SEVERITY_RANK, type Ecosystem, type Severity } from '../../scan/types.ts';
import type { RepositoryCoverage, RepositoryRecord } from '../../store/coverage-types.ts';
import type { ResultsStore, TriageMark } from '../../store/results-types.ts';
import { defaultBranchOf, type BranchFinding, type DefaultBranch } from './default-branch.ts';
import { ENTITY_TYPES, INVENTORY_SCHEMA_VERSION, type EntityType, type FindingEntity, type FindingState, type InventoryEntity, type RepositoryEntity } from './model.ts';

/**
 * The installation's inventory as one ordered sequence: projects, repositories, open pull
 * requests, findings, components, each type in the order of its key. A position in the
 * sequence (the last entity's type and key) is the cursor: the next page is whatever comes
 * after it, so entities added meanwhile before the cursor are not seen and none is repeated
 * or skipped. Findings and pull requests are read one repository at a time, so walking the
 * whole sequence (an export) holds one repository's findings, not the installation's.
 * Components are merged across repositories by purl, so they cost memory per distinct
 * package.
 */

export interface InventoryFilter {
  types?: readonly EntityType[];
  /** Repository uuid or full name. */
  repository?: string;
  /** Project key. */
  project?: string;
  /** Findings at or above this severity. */
  severity?: Severity;
  state?: FindingState;
  newAdvisory?: boolean;
  inHistory?: boolean;
}

export interface Position {
  type: EntityType;
  key: string[];
}

export type InventoryReader = Pick<ResultsStore, 'listRepositories' | 'listRepositoryCoverage' | 'listTriage' | 'listPullRequests' | 'getScan' | 'listScans' | 'getInventory' | 'getAdvisoryState'>;

export async function* inventoryEntities(
  results: InventoryReader,
  clientKey: string,
  filter: InventoryFilter = {},
  after?: Position,
): AsyncGenerator<{ position: Position; entity: InventoryEntity }> {
  const all = (await results.listRepositories(clientKey)).sort((a, b) => compare([a.uuid], [b.uuid]));
  const repos = all.filter((r) => matchesRepository(r, filter));
  const coverage = new Map((await results.listRepositoryCoverage(clientKey)).map((e) => [e.repoUuid, e]));
  const triage = new Map<string, Map<string, TriageMark>>();
  for (const mark of await results.listTriage(clientKey)) {
    let byRepo = triage.get(mark.repoUuid);
    if (!byRepo) triage.set(mark.repoUuid, (byRepo = new Map()));
    byRepo.set(mark.fingerprint, mark);
  }
  const branchOf = (repo: RepositoryRecord) => defaultBranchOf(results, repo, coverage.get(repo.uuid), triage.get(repo.uuid) ?? new Map());
  const wanted = new Set(filter.types ?? ENTITY_TYPES);
  const startType = after ? ENTITY_TYPES.indexOf(after.type) : 0;

  for (const [index, type] of ENTITY_TYPES.entries()) {
    if (index < startType || !wanted.has(type)) continue;
    const from = after && index === startType ? after.key : null;
    const isAfter = (key: string[]) => from === null || compare(key, from) > 0;
    switch (type) {
      case 'project': {
        const projects = new Map<string, { name: string; repositories: number }>();
        for (const r of repos) {
          if (!r.project || r.deletedAt !== null) continue;
          const p = projects.get(r.project.key) ?? { name: r.project.name, repositories: 0 };
          p.repositories++;
          projects.set(r.project.key, p);
        }
        for (const key of [...projects.keys()].sort()) {
          if (!isAfter([key])) continue;
          const p = projects.get(key)!;
          yield { position: { type, key: [key] }, entity: { schemaVersion: INVENTORY_SCHEMA_VERSION, type, id: `project:${key}`, key, name: p.name, repositories: p.repositories } };
        }
        break;
      }
      case 'repository':
        for (const r of repos) {
          if (!isAfter([r.uuid])) continue;
          yield { position: { type, key: [r.uuid] }, entity: repositoryEntity(r, coverage.get(r.uuid), await branchOf(r)) };
        }
        break;
      case 'pullRequest':
        for (const r of repos) {
          if (r.deletedAt !== null || (from !== null && compare([r.uuid], from.slice(0, 1)) < 0)) continue;
          const open = (await results.listPullRequests(clientKey, r.uuid)).filter((p) => p.state === 'OPEN').sort((a, b) => a.prId - b.prId);
          for (const p of open) {
            const key = [r.uuid, String(p.prId).padStart(12, '0')];
            if (!isAfter(key)) continue;
            yield {
              position: { type, key },
              entity: {
                schemaVersion: INVENTORY_SCHEMA_VERSION, type, id: `${r.uuid}#${p.prId}`, repository: r.uuid, repositoryFullName: r.fullName, prId: p.prId,
                sourceBranch: p.sourceBranch, destinationBranch: p.destinationBranch, commit: p.publishedCommit, verdict: p.lastResult, updatedAt: p.updatedAt,
              },
            };
          }
        }
        break;
      case 'finding':
        for (const r of repos) {
          if (from !== null && compare([r.uuid], from.slice(0, 1)) < 0) continue;
          const branch = await branchOf(r);
          if (!branch) continue;
          for (const item of branch.findings) {
            const key = [r.uuid, item.finding.fingerprint];
            if (!isAfter(key) || !matchesFinding(item, filter)) continue;
            yield { position: { type, key }, entity: findingEntity(r, branch.branch, item) };
          }
        }
        break;
      case 'component':
        for (const c of await components(results, repos)) {
          if (!isAfter([c.purl])) continue;
          yield { position: { type, key: [c.purl] }, entity: { schemaVersion: INVENTORY_SCHEMA_VERSION, type, id: c.purl, ...c } };
        }
        break;
    }
  }
}

function matchesRepository(r: RepositoryRecord, filter: InventoryFilter): boolean {
  if (filter.repository !== undefined && r.uuid !== filter.repository && r.fullName !== filter.repository) return false;
  if (filter.project !== undefined && r.project?.key !== filter.project) return false;
  return true;
}

function matchesFinding(item: BranchFinding, filter: InventoryFilter): boolean {
  if (filter.severity !== undefined && SEVERITY_RANK[item.finding.severity] < SEVERITY_RANK[filter.severity]) return false;
  if (filter.state !== undefined && item.state !== filter.state) return false;
  if (filter.newAdvisory !== undefined && (item.finding.newAdvisory === true) !== filter.newAdvisory) return false;
  if (filter.inHistory !== undefined && item.inHistory !== filter.inHistory) return false;
  return true;
}

function repositoryEntity(r: RepositoryRecord, coverage: RepositoryCoverage | undefined, branch: DefaultBranch | null): RepositoryEntity {
  const findings = { open: 0, triaged: 0, fixed: 0, newAdvisory: 0, inHistory: 0 };
  for (const item of branch?.findings ?? []) {
    findings[item.state]++;
    if (item.finding.newAdvisory && item.state === 'open') findings.newAdvisory++;
    if (item.inHistory && item.state === 'open') findings.inHistory++;
  }
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION, type: 'repository', id: r.uuid, uuid: r.uuid, fullName: r.fullName, name: r.name, project: r.project?.key ?? null,
    isPrivate: r.isPrivate, defaultBranch: r.mainBranch, language: r.language, sizeBytes: r.sizeBytes, updatedOn: r.updatedOn, deletedAt: r.deletedAt,
    coverage: coverage ? { status: coverage.status, commit: coverage.commit, reason: coverage.reason, updatedAt: coverage.updatedAt } : null,
    verdict: branch?.verdict ?? null,
    findings,
    components: new Set((branch?.inventory?.packages ?? []).map((p) => purlOf(p))).size,
  };
}

function findingEntity(r: RepositoryRecord, branch: string, item: BranchFinding): FindingEntity {
  const f = item.finding;
  const dep = f.kind === 'dependency' ? f : null;
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION, type: 'finding', id: `${r.uuid}/${f.fingerprint}`, repository: r.uuid, repositoryFullName: r.fullName,
    project: r.project?.key ?? null, branch, commit: item.commit, fingerprint: f.fingerprint, kind: f.kind, ruleId: f.ruleId, severity: f.severity,
    path: f.path, line: f.line, message: f.message, state: item.state, triage: item.triage, fixedAt: item.fixedAt,
    newAdvisory: f.newAdvisory === true, since: f.since ?? null, preview: f.kind === 'secret' ? f.preview : null,
    ecosystem: dep?.ecosystem ?? null, package: dep?.package ?? null, version: dep?.version ?? null, advisory: dep?.advisory ?? null, fixedVersion: dep?.fixedVersion ?? null,
    inHistory: item.inHistory, history: item.history,
  };
}

/** Every package of the live repositories' default-branch inventories, merged by purl, in purl order. */
async function components(results: InventoryReader, repos: RepositoryRecord[]): Promise<{ purl: string; ecosystem: Ecosystem; name: string; version: string; repositories: string[] }[]> {
  const byPurl = new Map<string, { ecosystem: Ecosystem; name: string; version: string; repositories: Set<string> }>();
  for (const r of repos) {
    if (r.mainBranch === null || r.deletedAt !== null) continue;
    const inventory = await results.getInventory(r.clientKey, r.uuid, r.mainBranch);
    for (const p of inventory?.packages ?? []) {
      const purl = purlOf(p);
      let c = byPurl.get(purl);
      if (!c) byPurl.set(purl, (c = { ecosystem: p.ecosystem, name: p.name, version: p.version, repositories: new Set() }));
      c.repositories.add(r.fullName);
    }
  }
  return [...byPurl.keys()].sort().map((purl) => {
    const c = byPurl.get(purl)!;
    return { purl, ecosystem: c.ecosystem, name: c.name, version: c.version, repositories: [...c.repositories].sort() };
  });
}

/** Element by element, by UTF-16 code units (the order the sequence is sorted in). */
function compare(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return a.length - b.length;
}

/** The opaque cursor: the position, base64url. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([1, position.type, position.key])).toString('base64url');
}

/** Undefined for anything this server did not hand out. */
export function decodeCursor(cursor: string): Position | undefined {
  if (!/^[A-Za-z0-9_-]{1,4000}$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3 || value[0] !== 1) return undefined;
    const [, type, key] = value as [number, unknown, unknown];
    if (!(ENTITY_TYPES as readonly unknown[]).includes(type) || !Array.isArray(key) || key.length < 1 || key.length > 2 || !key.every((k) => typeof k === 'string')) return undefined;
    return { type: type as EntityType, key: key as string[] };
  } catch {
    return undefined;
  }
}
