import type { Server } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultSpec } from '../faults.ts';
import { GitHost } from '../git.ts';
import type { OpenApiChecker } from '../openapi.ts';
import { deliver, type DcDelivery } from './delivery.ts';
import type { DcBuildStatus, DcPermission, DcProject, DcPullRequest, DcReport, DcRepository, DcToken, DcUser, DcWebhook } from './model.ts';
import { loadDatacenterChecker } from './openapi-dialect.ts';
import type { DcState } from './rest.ts';
import { createDatacenterOrigin, type DcViolation } from './server.ts';
import { errorBody, pullRequestPayload, refsChangedPayload, type RefChange } from './shapes.ts';

/**
 * A local Bitbucket Data Center: git-backed repositories served under Data Center's REST paths
 * and JSON shapes (server.ts, rest.ts), bearer access tokens with a permission each, webhooks
 * created through its REST API (as `gatehouse datacenter add --install-webhooks` does) and
 * delivered HMAC-signed in the real payload shapes, and fault knobs (429 with Retry-After, 5xx,
 * slow answers, a token revoked). The actions below are a Data Center user's: each sends the
 * webhooks Data Center would send.
 */

export interface LocalDatacenterOptions {
  port?: number;
  /** Served under a context path, as many installations are (`/bitbucket`); default none. */
  contextPath?: string;
  gitRoot?: string;
  openApiFile?: string;
  now?: () => Date;
  /** Extra routes at /_sim/ext/<name> beside the instance (the OSV mirror a demo serves to the app). */
  extensions?: Record<string, RequestHandler>;
}

export interface RepositoryInput {
  files?: Record<string, string>;
  defaultBranch?: string;
  name?: string;
}

export class LocalDatacenter implements DcState {
  readonly webhooks: DcWebhook[] = [];
  readonly deliveries: DcDelivery[] = [];
  readonly violations: DcViolation[] = [];
  /** Every REST call answered, with when (ms since the epoch) its answer was finished. */
  readonly calls: { method: string; path: string; status: number; at: number }[] = [];
  readonly user: DcUser = { id: 1, name: 'alice', slug: 'alice', displayName: 'Alice Developer', emailAddress: 'alice@example.invalid' };
  readonly faults = new FaultInjector((message) => errorBody(message));
  private readonly tokens = new Map<string, DcToken>();
  private readonly projects = new Map<string, DcProject>();
  private readonly repos = new Map<string, DcRepository>();
  private readonly ids = { project: 0, repository: 0, comment: 0, webhook: 0 };
  private server: Server | undefined;
  private origin = '';

  private constructor(
    private readonly git: GitHost,
    private readonly checker: OpenApiChecker,
    private readonly options: LocalDatacenterOptions,
  ) {}

  static async start(options: LocalDatacenterOptions = {}): Promise<LocalDatacenter> {
    const dc = new LocalDatacenter(await GitHost.create(options.gitRoot), loadDatacenterChecker(options.openApiFile), options);
    const app = createDatacenterOrigin({ state: dc, checker: dc.checker, faults: dc.faults, tokens: dc.tokens, calls: dc.calls, violations: dc.violations });
    const context = (options.contextPath ?? '').replace(/\/+$/, '');
    const root = express();
    root.disable('x-powered-by');
    for (const [name, handler] of Object.entries(options.extensions ?? {})) root.use(`/_sim/ext/${name}`, handler);
    root.use(context || '/', app);
    try {
      dc.server = await new Promise<Server>((resolve, reject) => {
        const server = root.listen(options.port ?? 0, '127.0.0.1');
        server.once('error', reject);
        server.once('listening', () => resolve(server));
      });
    } catch (error) {
      await dc.git.dispose();
      throw error;
    }
    dc.origin = `http://127.0.0.1:${(dc.server.address() as AddressInfo).port}`;
    return dc;
  }

  /** What an operator registers: the origin plus the context path. */
  get baseUrl(): string {
    return `${this.origin}${(this.options.contextPath ?? '').replace(/\/+$/, '')}`;
  }

  /** Where the instance listens, without the context path (its extensions live here). */
  get originUrl(): string {
    return this.origin;
  }

  get webBase(): string {
    return this.baseUrl;
  }

  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  repositories(): DcRepository[] {
    return [...this.repos.values()];
  }

  findRepository(projectKey: string, slug: string): DcRepository | undefined {
    return this.repos.get(`${projectKey.toUpperCase()}/${slug.toLowerCase()}`);
  }

  nextId(kind: 'comment' | 'webhook'): number {
    return ++this.ids[kind];
  }

  // --- tokens -------------------------------------------------------------------------------

  /** An HTTP access token with one permission (and every weaker one), optionally limited to projects. */
  addToken(token: string, permission: DcPermission = 'REPO_READ', projects?: string[]): void {
    this.tokens.set(token, { permission, revoked: false, ...(projects ? { projects } : {}) });
  }

  /** From now on the token is answered 401, as when an admin revokes it or it expires. */
  revokeToken(token: string): void {
    const held = this.tokens.get(token);
    if (!held) throw new Error('no such token');
    held.revoked = true;
  }

  addFault(spec: FaultSpec): void {
    this.faults.add(spec);
  }

  // --- repositories and what users do in them ----------------------------------------------

  async createRepository(projectKey: string, slug: string, input: RepositoryInput = {}): Promise<DcRepository> {
    if (!/^[A-Z][A-Z0-9_]{0,127}$/.test(projectKey)) throw new Error(`invalid project key ${JSON.stringify(projectKey)}`);
    if (!/^[a-z0-9][a-z0-9._-]{0,61}$/.test(slug)) throw new Error(`invalid slug ${JSON.stringify(slug)}`);
    const key = `${projectKey}/${slug}`;
    if (this.repos.has(key)) throw new Error(`repository ${key} already exists`);
    let project = this.projects.get(projectKey);
    if (!project) {
      project = { id: ++this.ids.project, key: projectKey, name: projectKey };
      this.projects.set(projectKey, project);
    }
    const defaultBranch = input.defaultBranch ?? 'main';
    const repo: DcRepository = {
      id: ++this.ids.repository,
      slug,
      name: input.name ?? slug,
      project,
      defaultBranch,
      git: await this.git.init(`${projectKey.toLowerCase()}/${slug}`, defaultBranch),
      pullRequests: [],
      reports: new Map(),
      builds: new Map(),
    };
    // The first commit comes with the repository (no webhook), so scans start from a known base.
    await repo.git.commit(defaultBranch, input.files ?? { 'README.md': `# ${slug}\n` }, 'Initial commit');
    this.repos.set(key, repo);
    return repo;
  }

  repository(fullName: string): DcRepository {
    const [project = '', slug = ''] = fullName.split('/');
    const repo = this.findRepository(project, slug);
    if (!repo) throw new Error(`no repository ${fullName}`);
    return repo;
  }

  pullRequest(fullName: string, id: number): DcPullRequest {
    const pr = this.repository(fullName).pullRequests.find((p) => p.id === id);
    if (!pr) throw new Error(`no pull request #${id} in ${fullName}`);
    return pr;
  }

  report(fullName: string, commit: string, key: string): DcReport | undefined {
    return this.repository(fullName).reports.get(commit)?.get(key);
  }

  build(fullName: string, commit: string, key: string): DcBuildStatus | undefined {
    return this.repository(fullName).builds.get(commit)?.get(key);
  }

  /** A webhook as a project or repository admin creates it in the UI. */
  addWebhook(input: { scope: string; url: string; secret?: string; events: string[]; name?: string }): DcWebhook {
    const hook: DcWebhook = { id: this.nextId('webhook'), name: input.name ?? 'webhook', url: input.url, active: true, events: input.events, secret: input.secret, scope: input.scope };
    this.webhooks.push(hook);
    return hook;
  }

  async createBranch(fullName: string, branch: string, from?: string): Promise<string> {
    const repo = this.repository(fullName);
    if (await repo.git.branchHead(branch)) throw new Error(`branch ${branch} already exists in ${fullName}`);
    const hash = await repo.git.createBranch(branch, from ?? repo.defaultBranch);
    await this.pushed(repo, [{ branch, fromHash: null, toHash: hash }]);
    return hash;
  }

  /** Pushes a commit to `branch`: repo:refs_changed, then pr:from_ref_updated for each open pull request from it. */
  async commit(fullName: string, branch: string, files: Record<string, string | null>, message: string): Promise<string> {
    const repo = this.repository(fullName);
    const before = await repo.git.branchHead(branch);
    if (!before) throw new Error(`branch ${branch} does not exist in ${fullName}`);
    const after = await repo.git.commit(branch, files, message, { name: this.user.displayName, email: this.user.emailAddress });
    await this.pushed(repo, [{ branch, fromHash: before, toHash: after }]);
    for (const pr of repo.pullRequests.filter((p) => p.state === 'OPEN' && !p.deleted && p.fromBranch === branch)) {
      Object.assign(pr, { fromHash: after, toHash: (await repo.git.branchHead(pr.toBranch)) ?? pr.toHash, version: pr.version + 1, updatedDate: this.now().getTime() });
      await this.emit(repo, 'pr:from_ref_updated', pullRequestPayload('pr:from_ref_updated', pr, repo, this.user, this.webBase, this.now()));
    }
    return after;
  }

  async openPullRequest(fullName: string, input: { from: string; to?: string; title: string; description?: string }): Promise<DcPullRequest> {
    const repo = this.repository(fullName);
    const toBranch = input.to ?? repo.defaultBranch;
    const fromHash = await repo.git.branchHead(input.from);
    const toHash = await repo.git.branchHead(toBranch);
    if (!fromHash || !toHash) throw new Error(`both branches must exist: ${input.from} -> ${toBranch}`);
    const at = this.now().getTime();
    const pr: DcPullRequest = {
      id: repo.pullRequests.length + 1,
      version: 0,
      title: input.title,
      description: input.description ?? '',
      state: 'OPEN',
      fromBranch: input.from,
      toBranch,
      fromHash,
      toHash,
      mergeHash: null,
      author: this.user,
      createdDate: at,
      updatedDate: at,
      closedDate: null,
      comments: [],
      deleted: false,
    };
    repo.pullRequests.push(pr);
    await this.emit(repo, 'pr:opened', pullRequestPayload('pr:opened', pr, repo, this.user, this.webBase, this.now()));
    return pr;
  }

  updatePullRequest(fullName: string, id: number, files: Record<string, string | null>, message: string): Promise<string> {
    const pr = this.open(fullName, id);
    return this.commit(fullName, pr.fromBranch, files, message);
  }

  async mergePullRequest(fullName: string, id: number): Promise<string> {
    const repo = this.repository(fullName);
    const pr = this.open(fullName, id);
    const before = await repo.git.branchHead(pr.toBranch);
    const merged = await repo.git.merge(pr.toBranch, pr.fromBranch, `Pull request #${pr.id}: ${pr.title}\n\nMerge in ${repo.project.key}/${repo.slug} from ${pr.fromBranch} to ${pr.toBranch}`);
    const at = this.now().getTime();
    Object.assign(pr, { state: 'MERGED', mergeHash: merged, closedDate: at, updatedDate: at, version: pr.version + 1 });
    await this.emit(repo, 'pr:merged', pullRequestPayload('pr:merged', pr, repo, this.user, this.webBase, this.now()));
    await this.pushed(repo, [{ branch: pr.toBranch, fromHash: before, toHash: merged }]);
    return merged;
  }

  async declinePullRequest(fullName: string, id: number): Promise<void> {
    const repo = this.repository(fullName);
    const pr = this.open(fullName, id);
    const at = this.now().getTime();
    Object.assign(pr, { state: 'DECLINED', closedDate: at, updatedDate: at, version: pr.version + 1 });
    await this.emit(repo, 'pr:declined', pullRequestPayload('pr:declined', pr, repo, this.user, this.webBase, this.now()));
  }

  /** Deleted for good: the payload carries the pull request as it was; the REST API answers 404 for it. */
  async deletePullRequest(fullName: string, id: number): Promise<void> {
    const repo = this.repository(fullName);
    const pr = this.pullRequest(fullName, id);
    if (pr.deleted) throw new Error(`pull request #${id} is already deleted`);
    pr.deleted = true;
    await this.emit(repo, 'pr:deleted', pullRequestPayload('pr:deleted', pr, repo, this.user, this.webBase, this.now()));
  }

  /** Deleted by an admin: no webhook (Data Center sends none), and every REST path under it answers 404 from now on. */
  deleteRepository(fullName: string): void {
    const repo = this.repository(fullName);
    this.repos.delete(`${repo.project.key}/${repo.slug}`);
  }

  /** Sends a delivery again with the same bytes and request id (Data Center's "Resend"). */
  async redeliver(delivery: DcDelivery): Promise<DcDelivery> {
    const hook = this.webhooks.find((h) => h.id === delivery.webhookId);
    const again = await deliver({ eventKey: delivery.eventKey, webhookId: delivery.webhookId, url: delivery.url, secret: hook?.secret, body: delivery.body, requestId: delivery.requestId });
    this.deliveries.push(again);
    return again;
  }

  private open(fullName: string, id: number): DcPullRequest {
    const pr = this.pullRequest(fullName, id);
    if (pr.state !== 'OPEN' || pr.deleted) throw new Error(`pull request #${id} is ${pr.deleted ? 'deleted' : pr.state}`);
    return pr;
  }

  private async pushed(repo: DcRepository, changes: RefChange[]): Promise<void> {
    await this.emit(repo, 'repo:refs_changed', refsChangedPayload(repo, changes, this.user, this.webBase, this.now()));
  }

  /** Delivers to every active webhook of the repository or its project that subscribes to the event, one after another. */
  private async emit(repo: DcRepository, eventKey: string, payload: object): Promise<DcDelivery[]> {
    const scopes = [repo.project.key, `${repo.project.key}/${repo.slug}`];
    const body = JSON.stringify(payload);
    const sent: DcDelivery[] = [];
    for (const hook of this.webhooks.filter((h) => h.active && scopes.includes(h.scope) && h.events.includes(eventKey))) {
      const delivery = await deliver({ eventKey, webhookId: hook.id, url: hook.url, secret: hook.secret, body });
      this.deliveries.push(delivery);
      sent.push(delivery);
    }
    return sent;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.git.dispose();
  }
}
