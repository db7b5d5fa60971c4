import { Router, type Request } from 'express';
import { datacenterLinks } from '../codehost/datacenter/links.ts';
import type { RepoRef } from '../core/code-host.ts';
import { requireAdminToken } from '../http/admin-auth.ts';
import { HttpError } from '../http/errors.ts';
import type { ResultsStore, ScanSummary } from '../store/results-types.ts';
import type { DatacenterInstance, Store } from '../store/types.ts';
import { storeDataSource } from '../ui/data-source.ts';
import { pullRequestPanelModel } from '../ui/view-models/pull-request.ts';
import { repositoryPanelModel } from '../ui/view-models/repository.ts';
import { ADMIN_INSTANCES_PATH } from './admin-routes.ts';
import { tenantKeyOf } from './instance.ts';

/**
 * What Gatehouse found on a Data Center instance, on the operator API (Data Center has no app
 * pages: its users see the report, build status and comment in Bitbucket; this is for the
 * operator and for automation). The same view models as the Cloud panels and the Forge UI:
 *
 *   GET /admin/datacenter/instances/{id}/results                                 every repository with results: its pull requests and branches
 *   GET /admin/datacenter/instances/{id}/results/pull-request?repository=P/slug&id=N   one pull request's verdict and findings
 *   GET /admin/datacenter/instances/{id}/results/branch?repository=P/slug&branch=B     one branch's state (latest push scan, inventory)
 */

const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const FULL_NAME = /^~?[A-Za-z0-9_-]{1,128}\/[A-Za-z0-9._-]{1,128}$/;

export interface ResultsRouteDeps {
  adminToken: string;
  store: Pick<Store, 'getDatacenterInstance' | 'countUnfinishedJobs'>;
  results: ResultsStore;
}

interface RepositoryResults {
  repoUuid: string;
  repository: string | null;
  /** `url`: the pull request in Data Center (null while the repository's name is unknown). */
  pullRequests: { id: number; url: string | null; state: string; sourceBranch: string; destinationBranch: string; lastResult: string | null; publishedCommit: string | null; updatedAt: string }[];
  branches: { branch: string; commit: string; result: string; counts: ScanSummary['counts']; scannedAt: string }[];
}

export function datacenterResultsRouter(deps: ResultsRouteDeps): Router {
  const router = Router();
  const base = `${ADMIN_INSTANCES_PATH}/:instanceId/results`;
  const data = storeDataSource(deps.results, deps.store);
  router.use(base, requireAdminToken(deps.adminToken));

  async function instanceOf(req: Request): Promise<DatacenterInstance> {
    const id = req.params.instanceId;
    const instance = typeof id === 'string' && INSTANCE_ID.test(id) ? await deps.store.getDatacenterInstance(id) : undefined;
    if (!instance) throw new HttpError(404, 'no_such_instance', 'No Data Center instance with that id');
    return instance;
  }

  /** Every repository of the instance with kept results, named as Data Center names it (PROJECT/slug). */
  async function repositories(instance: DatacenterInstance): Promise<RepositoryResults[]> {
    const clientKey = tenantKeyOf(instance.instanceId);
    const links = datacenterLinks(instance.baseUrl);
    const byRepo = new Map<string, ScanSummary[]>();
    for (const scan of await deps.results.listScans(clientKey)) byRepo.set(scan.repoUuid, [...(byRepo.get(scan.repoUuid) ?? []), scan]);
    const out: RepositoryResults[] = [];
    for (const [repoUuid, scans] of byRepo) {
      const pulls = await deps.results.listPullRequests(clientKey, repoUuid);
      const newest = new Map<string, ScanSummary>();
      for (const s of scans) if (s.kind !== 'pull_request' && s.branch && (newest.get(s.branch)?.createdAt ?? '') < s.createdAt) newest.set(s.branch, s);
      const firstBranch = [...newest.keys()][0];
      const named = pulls[0]?.repoFullName ?? (firstBranch ? (await deps.results.getInventory(clientKey, repoUuid, firstBranch))?.repoFullName : undefined);
      const repo = named ? repoRefOf(named) : undefined;
      out.push({
        repoUuid,
        repository: named ?? null,
        pullRequests: pulls
          .sort((a, b) => a.prId - b.prId)
          .map((p) => ({ id: p.prId, url: repo ? links.pullRequestUrl(repo, p.prId) : null, state: p.state, sourceBranch: p.sourceBranch, destinationBranch: p.destinationBranch, lastResult: p.lastResult, publishedCommit: p.publishedCommit, updatedAt: p.updatedAt })),
        branches: [...newest.values()].map((s) => ({ branch: s.branch!, commit: s.commit, result: s.result, counts: s.counts, scannedAt: s.createdAt })),
      });
    }
    return out.sort((a, b) => (a.repository ?? a.repoUuid).localeCompare(b.repository ?? b.repoUuid));
  }

  async function repositoryNamed(instance: DatacenterInstance, req: Request): Promise<{ repoUuid: string; repository: string }> {
    const name = req.query.repository;
    if (typeof name !== 'string' || !FULL_NAME.test(name)) throw new HttpError(400, 'invalid_request', 'repository: expected PROJECT/slug');
    const found = (await repositories(instance)).find((r) => r.repository?.toLowerCase() === name.toLowerCase());
    if (!found) throw new HttpError(404, 'no_results', `No results are kept for ${name} on this instance`);
    return { repoUuid: found.repoUuid, repository: found.repository! };
  }

  router.get(base, async (req, res) => {
    const instance = await instanceOf(req);
    res.json({ instanceId: instance.instanceId, name: instance.name, baseUrl: instance.baseUrl, repositories: await repositories(instance) });
  });

  router.get(`${base}/pull-request`, async (req, res) => {
    const instance = await instanceOf(req);
    const clientKey = tenantKeyOf(instance.instanceId);
    const id = Number(req.query.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new HttpError(400, 'invalid_request', 'id: expected a pull request id');
    const { repoUuid, repository } = await repositoryNamed(instance, req);
    const record = await deps.results.getPullRequest(clientKey, repoUuid, id);
    if (!record) throw new HttpError(404, 'no_results', `No results are kept for pull request #${id} of ${repository}`);
    const links = datacenterLinks(instance.baseUrl);
    const model = await pullRequestPanelModel(data, { clientKey, links, repoUuid, repoFullName: repository, prId: id, commit: null, sourceBranch: null, destinationBranch: null }, false);
    res.json({ state: record.state, url: links.pullRequestUrl(repoRefOf(repository), id), ...model });
  });

  router.get(`${base}/branch`, async (req, res) => {
    const instance = await instanceOf(req);
    const clientKey = tenantKeyOf(instance.instanceId);
    const branch = req.query.branch;
    if (typeof branch !== 'string' || branch === '' || branch.length > 256) throw new HttpError(400, 'invalid_request', 'branch: expected a branch name');
    const { repoUuid, repository } = await repositoryNamed(instance, req);
    res.json(await repositoryPanelModel(data, { clientKey, repoUuid, repoFullName: repository, mainBranch: branch, links: datacenterLinks(instance.baseUrl) }));
  });

  return router;
}

/** `PROJECT/slug` as the code host's repository reference (FULL_NAME has checked the shape). */
function repoRefOf(fullName: string): RepoRef {
  const [workspace = '', slug = ''] = fullName.split('/');
  return { workspace, slug };
}
