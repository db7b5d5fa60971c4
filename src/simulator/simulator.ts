import { randomBytes, randomUUID } from 'node:crypto';
import { encodeSymmetric, SymmetricAlgorithm } from 'atlassian-jwt';
import type { Express, RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApiOrigin } from './api-origin.ts';
import { fetchDescriptor, moduleUrl, webhookUrls } from './descriptor.ts';
import type { Descriptor } from './descriptor.ts';
import { FaultInjector } from './faults.ts';
import type { FaultSpec } from './faults.ts';
import { GitHost } from './git.ts';
import type { CommitInfo } from './git.ts';
import { signHostToken } from './jwt.ts';
import { fullName, newAccount, newWorkspace } from './model.ts';
import type { Account, Installation, PullRequest, Repository, Workspace } from './model.ts';
import { OpenApiChecker } from './openapi.ts';
import { pullRequestPayload, pushPayload } from './payloads.ts';
import type { BranchMove } from './payloads.ts';
import { Resources } from './resources.ts';
import { recordViolation } from './site.ts';
import type { Site, Violation } from './site.ts';
import { createWebOrigin } from './web-origin.ts';
import { setDefaultMember } from './permissions.ts';
import { deliverWebhook } from './webhooks.ts';
import type { Delivery } from './webhooks.ts';

export interface RepositoryOptions {
  mainBranch?: string;
  /** The first commit's files (default: a README). */
  files?: Record<string, string>;
  /** No commit at all: the default branch has no head. */
  empty?: boolean;
  project?: { key: string; name: string };
  isPrivate?: boolean;
  language?: string;
  /** Bitbucket's `updated_on`, when a test needs an order. */
  updatedOn?: string;
}

/**
 * A local Bitbucket Cloud: two loopback origins (web = installation baseUrl, API = baseApiUrl)
 * and the actions of a Bitbucket user, each of which sends the webhooks Bitbucket would send
 * to the URLs the app's descriptor declares.
 */

export interface SimulatorOptions {
  /** Where the app serves /atlassian-connect.json. */
  appBaseUrl: string;
  /** Expected descriptor key (`iss` of the app's REST JWTs); defaults to the descriptor's own. */
  appKey?: string;
  /** Workspace the app is installed into (default `acme`). */
  workspace?: string;
  /** `wrapped` (default) sends `{"event","data"}` like captured Connect deliveries; `bare` sends the plain body. */
  webhookFormat?: 'wrapped' | 'bare';
  /** Pause between webhook retries (default 1000 ms; tests use 0). */
  retryDelayMs?: number;
  webhookTimeoutMs?: number;
  /** Ports for the two origins (default: any free port). */
  webPort?: number;
  apiPort?: number;
  /** Parent directory of the temporary git repositories. */
  gitRoot?: string;
  openApiFile?: string;
  now?: () => Date;
  /**
   * Extra routes on the web origin, mounted under /_sim/ext/<name> before the host pages
   * (e.g. the small OSV mirror a demo serves to the app).
   */
  webExtensions?: Record<string, RequestHandler>;
}

export interface LifecycleResult {
  status: number;
  body: string;
  clientKey: string;
}

export interface InstallOptions {
  workspace?: string;
  /**
   * How the install is signed. `auto` follows Bitbucket (unsigned the first time, otherwise
   * the previous secret); the others exist to prove the app refuses forged installs.
   */
  signing?: 'auto' | 'none' | 'new-secret';
  /**
   * An install Bitbucket never made: someone posts the installed call for the workspace's
   * clientKey with a secret of their own, unsigned (they hold no secret of the workspace).
   * Bitbucket's records do not change, whatever the app answers.
   */
  forged?: boolean;
}

export interface PullRequestInput {
  source: string;
  /** A fork's full name when the source branch is there (see forkRepository). */
  sourceRepository?: string;
  destination?: string;
  title: string;
  description?: string;
}

/** A user action's event, before it becomes any front door's delivery (the local Forge listens). */
export interface SiteEvent {
  repo: Repository;
  /** The Connect event key (`repo:push`, `pullrequest:created`, ...). */
  event: string;
  actor: Account;
  pullRequest?: PullRequest;
  move?: BranchMove;
}

export type PanelLocation = 'repository' | 'pullRequest' | 'workspaceSettings';

/** Another front door's panels on the host pages (the local Forge's Custom UI frames). */
export interface PanelSource {
  /** Origin the frames load from (allowed by the host pages' frame-src). */
  origin: string;
  panels(location: PanelLocation, place: { workspace: string; repository?: string; pullRequestId?: number }): { title: string; src: string }[];
}

export interface InstallationInfo {
  clientKey: string;
  sharedSecret: string;
  baseUrl: string;
  baseApiUrl: string;
  workspace: string;
}

export class Simulator {
  readonly deliveries: Delivery[] = [];
  readonly lifecycleCalls: (LifecycleResult & { event: string; signed: boolean })[] = [];
  readonly user: Account = newAccount('Sim User');
  /** Told of every event, whether or not a Connect app is installed; awaited in order. */
  readonly eventListeners: ((event: SiteEvent) => Promise<void>)[] = [];
  readonly panelSources: PanelSource[] = [];
  private descriptor: Descriptor | undefined;
  private readonly hookUuids = new Map<string, string>();
  private readonly workspaces = new Map<string, Workspace>();

  private constructor(
    readonly site: Site,
    private readonly options: SimulatorOptions,
    private readonly git: GitHost,
    private readonly servers: Server[],
  ) {}

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const now = options.now ?? (() => new Date());
    const git = await GitHost.create(options.gitRoot);
    const site: Site = {
      appKey: options.appKey ?? '',
      origins: { web: '', api: '' },
      resources: new Resources({ web: '', api: '' }),
      checker: OpenApiChecker.load(options.openApiFile),
      faults: new FaultInjector(),
      installations: new Map(),
      pendingInstalls: new Map(),
      grantedScopes: undefined,
      accessTokens: new Map(),
      bearerVerifiers: [],
      repositories: new Map(),
      violations: [],
      apiCalls: [],
      gitRequests: 0,
      now,
      recordViolation: (v) => recordViolation(site, v),
    };
    const sim = new Simulator(site, options, git, []);
    setDefaultMember(site, sim.user);
    try {
      const api = await listen(createApiOrigin(site), options.apiPort ?? 0);
      sim.servers.push(api.server);
      const web = await listen(createWebOrigin(sim), options.webPort ?? 0);
      sim.servers.push(web.server);
      site.origins = { web: web.origin, api: api.origin };
      site.resources = new Resources(site.origins);
    } catch (error) {
      await sim.stop();
      throw error;
    }
    return sim;
  }

  get webOrigin(): string {
    return this.site.origins.web;
  }

  get apiOrigin(): string {
    return this.site.origins.api;
  }

  get faults(): { add(spec: FaultSpec): void; clear(): void; pending(): number } {
    return this.site.faults;
  }

  /** Every call the app made to the API origin (method and path), in arrival order. */
  get apiCalls(): readonly { method: string; path: string }[] {
    return this.site.apiCalls;
  }

  get violations(): readonly Violation[] {
    return this.site.violations;
  }

  clearViolations(): void {
    this.site.violations.length = 0;
  }

  get appBaseUrl(): string {
    return this.options.appBaseUrl.replace(/\/+$/, '');
  }

  /** Origins the host pages may frame: where the app answers and where its descriptor points. */
  get frameOrigins(): string[] {
    const origins = [new URL(this.appBaseUrl).origin];
    if (this.descriptor) origins.push(new URL(this.descriptor.baseUrl).origin);
    for (const source of this.panelSources) origins.push(source.origin);
    return [...new Set(origins)];
  }

  get webExtensions(): Record<string, RequestHandler> {
    return this.options.webExtensions ?? {};
  }

  /** The descriptor as last fetched (install fetches it afresh). */
  async getDescriptor(): Promise<Descriptor> {
    this.descriptor ??= await fetchDescriptor(this.appBaseUrl);
    return this.descriptor;
  }

  installation(workspace = this.defaultWorkspace): InstallationInfo | undefined {
    const inst = [...this.site.installations.values()].find((i) => i.principal.slug === workspace);
    if (!inst?.installed) return undefined;
    return { clientKey: inst.clientKey, sharedSecret: inst.sharedSecret, baseUrl: this.webOrigin, baseApiUrl: this.apiOrigin, workspace };
  }

  private get defaultWorkspace(): string {
    return this.options.workspace ?? 'acme';
  }

  /** The workspace with that slug, created on first use. */
  workspace(slug: string): Workspace {
    let ws = this.workspaces.get(slug);
    if (!ws) {
      ws = newWorkspace(slug);
      this.workspaces.set(slug, ws);
    }
    return ws;
  }

  /** Installs (or reinstalls) the app; throws unless the app answers 2xx. */
  async install(opts: InstallOptions = {}): Promise<LifecycleResult> {
    const result = await this.attemptInstall(opts);
    if (result.status < 200 || result.status >= 300) throw new Error(`the app refused the install: ${result.status} ${result.body.slice(0, 300)}`);
    return result;
  }

  /** Runs the installed lifecycle call and reports the app's answer without judging it. */
  async attemptInstall(opts: InstallOptions = {}): Promise<LifecycleResult> {
    this.descriptor = await fetchDescriptor(this.appBaseUrl);
    const descriptor = this.descriptor;
    if (this.options.appKey && descriptor.key !== this.options.appKey) {
      throw new Error(`the descriptor's key is "${descriptor.key}", expected "${this.options.appKey}"`);
    }
    this.site.appKey = descriptor.key;
    this.site.grantedScopes = descriptor.scopes ? new Set(descriptor.scopes) : undefined;
    const ws = this.workspace(opts.workspace ?? this.defaultWorkspace);
    const clientKey = `ari:cloud:bitbucket::app/${ws.uuid}/${descriptor.key}`;
    const prior = this.site.installations.get(clientKey);
    const sharedSecret = randomBytes(32).toString('base64url');
    const signing = opts.signing ?? 'auto';
    const signWith = signing === 'none' || opts.forged ? undefined : signing === 'new-secret' ? sharedSecret : prior?.sharedSecret;
    const body = this.lifecycleBody('installed', descriptor, clientKey, sharedSecret, ws);
    if (opts.forged) return this.lifecycleCall('installed', descriptor.lifecycle.installed, body, clientKey, undefined);
    this.site.pendingInstalls.set(clientKey, sharedSecret);
    let result: LifecycleResult;
    try {
      result = await this.lifecycleCall('installed', descriptor.lifecycle.installed, body, clientKey, signWith);
    } finally {
      this.site.pendingInstalls.delete(clientKey);
    }
    if (result.status >= 200 && result.status < 300) {
      const installation: Installation = { clientKey, sharedSecret, installed: true, principal: ws, installedOn: this.site.now().toISOString() };
      this.site.installations.set(clientKey, installation);
    }
    return result;
  }

  /** Uninstalls from a workspace, signed with the current secret. */
  async uninstall(workspace = this.defaultWorkspace): Promise<LifecycleResult> {
    const descriptor = await this.getDescriptor();
    const inst = [...this.site.installations.values()].find((i) => i.principal.slug === workspace && i.installed);
    if (!inst) throw new Error(`the app is not installed in workspace ${workspace}`);
    inst.installed = false;
    for (const [token, entry] of this.site.accessTokens) if (entry.clientKey === inst.clientKey) this.site.accessTokens.delete(token);
    if (!descriptor.lifecycle.uninstalled) return { status: 204, body: '', clientKey: inst.clientKey };
    const body = this.lifecycleBody('uninstalled', descriptor, inst.clientKey, inst.sharedSecret, inst.principal);
    return this.lifecycleCall('uninstalled', descriptor.lifecycle.uninstalled, body, inst.clientKey, inst.sharedSecret);
  }

  private lifecycleBody(eventType: string, descriptor: Descriptor, clientKey: string, sharedSecret: string, ws: Workspace) {
    const res = this.site.resources;
    return {
      key: descriptor.key,
      clientKey,
      publicKey: '',
      sharedSecret,
      serverVersion: '',
      pluginsVersion: '',
      baseUrl: this.webOrigin,
      baseApiUrl: this.apiOrigin,
      productType: 'bitbucket',
      description: 'Bitbucket Cloud (local simulator)',
      eventType,
      principal: { ...res.workspace(ws), type: 'team', username: ws.slug, display_name: ws.name },
      user: res.account(this.user),
    };
  }

  private async lifecycleCall(event: string, path: string, body: unknown, clientKey: string, secret: string | undefined): Promise<LifecycleResult> {
    if (!this.descriptor) throw new Error('the descriptor has not been read');
    const url = moduleUrl(this.descriptor, path);
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'Bitbucket-Connect/1.0' };
    if (secret) {
      const token = signHostToken({
        clientKey, sharedSecret: secret, method: 'POST', url, appBaseUrl: this.descriptor.baseUrl,
        nowSeconds: Math.floor(this.site.now().getTime() / 1000), extra: { aud: [clientKey] },
      });
      headers.Authorization = `JWT ${token}`;
    }
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const result = { status: res.status, body: await res.text(), clientKey };
    this.lifecycleCalls.push({ ...result, event, signed: Boolean(secret) });
    return result;
  }

  async createRepository(workspace: string, slug: string, opts: RepositoryOptions = {}): Promise<Repository> {
    const repo = await this.newRepository(workspace, slug, opts.mainBranch ?? 'main');
    const { project, isPrivate, language, updatedOn } = opts;
    Object.assign(repo, { ...(project ? { project } : {}), ...(isPrivate !== undefined ? { isPrivate } : {}), ...(language ? { language } : {}) });
    // The first commit comes with the repository, as when Bitbucket creates it with a README:
    // no push webhook, so a scan starts from a known base. An empty repository has none.
    if (!opts.empty) {
      const files = opts.files ?? { 'README.md': `# ${slug}\n` };
      await repo.git.commit(repo.mainBranch, files, 'Initial commit');
      repo.sizeBytes = Object.values(files).reduce((sum, content) => sum + Buffer.byteLength(content), 0);
    }
    if (updatedOn) repo.updatedOn = updatedOn;
    this.site.repositories.set(fullName(repo), repo);
    return repo;
  }

  /** Renames a repository (same uuid, new slug), as a workspace admin does in its settings. */
  renameRepository(current: string, newSlug: string): Repository {
    const repo = this.repository(current);
    if (this.site.repositories.has(`${repo.workspace.slug}/${newSlug}`)) throw new Error(`repository ${repo.workspace.slug}/${newSlug} already exists`);
    this.site.repositories.delete(fullName(repo));
    repo.slug = newSlug;
    repo.updatedOn = this.site.now().toISOString();
    this.site.repositories.set(fullName(repo), repo);
    return repo;
  }

  /** Moves a repository to another project of its workspace. */
  moveRepository(name: string, project: { key: string; name: string }): Repository {
    const repo = this.repository(name);
    repo.project = project;
    repo.updatedOn = this.site.now().toISOString();
    return repo;
  }

  /** Deletes a repository: the API answers 404 for it from now on. */
  deleteRepository(name: string): void {
    this.site.repositories.delete(fullName(this.repository(name)));
  }

  /** A fork of `parent`: its own repository with the parent's branches and history, and no webhook. */
  async forkRepository(parent: string, workspace: string, slug: string): Promise<Repository> {
    const origin = this.repository(parent);
    const repo = await this.newRepository(workspace, slug, origin.mainBranch);
    await repo.git.fetchFrom(origin.git, '+refs/heads/*:refs/heads/*');
    repo.parent = origin;
    this.site.repositories.set(fullName(repo), repo);
    return repo;
  }

  private async newRepository(workspace: string, slug: string, mainBranch: string): Promise<Repository> {
    for (const part of [workspace, slug]) {
      // Bitbucket's slug alphabet; it also keeps names from escaping the git directory.
      if (!/^[a-z0-9][a-z0-9._-]{0,61}$/.test(part)) throw new Error(`invalid slug ${JSON.stringify(part)}: lower-case letters, digits, ".", "_" and "-"`);
    }
    if (this.site.repositories.has(`${workspace}/${slug}`)) throw new Error(`repository ${workspace}/${slug} already exists`);
    const now = this.site.now().toISOString();
    const repo: Repository = {
      workspace: this.workspace(workspace),
      slug,
      uuid: `{${randomUUID()}}`,
      mainBranch,
      createdOn: now,
      updatedOn: now,
      git: await this.git.init(`${workspace}/${slug}`, mainBranch),
      pullRequests: [],
      reports: new Map(),
      statuses: new Map(),
    };
    return repo;
  }

  repository(fullName: string): Repository {
    const repo = this.site.repositories.get(fullName.toLowerCase());
    if (!repo) throw new Error(`no repository ${fullName}`);
    return repo;
  }

  /**
   * Commits `files` to `branch` (null deletes a path) and sends repo:push, plus
   * pullrequest:updated for every open pull request whose source is that branch.
   */
  async commit(fullName: string, branch: string, files: Record<string, string | null>, message: string): Promise<string> {
    const repo = this.repository(fullName);
    const oldHash = await repo.git.branchHead(branch);
    if (!oldHash) throw new Error(`branch ${branch} does not exist in ${fullName}; create it first with createBranch`);
    const newHash = await repo.git.commit(branch, files, message, { name: this.user.display_name, email: 'sim.user@example.invalid' });
    repo.updatedOn = this.site.now().toISOString();
    await this.sendPush(repo, branch, oldHash, newHash);
    for (const destination of this.site.repositories.values()) {
      for (const pr of destination.pullRequests.filter((p) => p.state === 'OPEN' && p.sourceBranch === branch && (p.sourceRepository ?? destination) === repo)) {
        if (pr.sourceRepository) await destination.git.fetchFrom(repo.git, `+refs/heads/${branch}:refs/pull-requests/${pr.id}/from`);
        pr.sourceHash = newHash;
        pr.destinationHash = (await destination.git.branchHead(pr.destinationBranch)) ?? pr.destinationHash;
        pr.updatedOn = this.site.now().toISOString();
        await this.sendEvent(destination, 'pullrequest:updated', pullRequestPayload(this.site.resources, destination, pr, this.user), { pullRequest: pr });
      }
    }
    return newHash;
  }

  /**
   * Branches off the main branch, one commit each, sent as no webhook: as if pushed before the
   * app was installed. Load tests prepare thousands of pull requests this way, so that the app
   * sees only the pull requests they measure.
   */
  async seedBranches(fullName: string, branches: { branch: string; files: Record<string, string> }[], message: string): Promise<void> {
    const repo = this.repository(fullName);
    await repo.git.commitBranches(repo.mainBranch, branches, message);
    repo.updatedOn = this.site.now().toISOString();
  }

  async createBranch(fullName: string, branch: string, from?: string): Promise<string> {
    const repo = this.repository(fullName);
    if (await repo.git.branchHead(branch)) throw new Error(`branch ${branch} already exists in ${fullName}`);
    const hash = await repo.git.createBranch(branch, from ?? repo.mainBranch);
    await this.sendPush(repo, branch, null, hash);
    return hash;
  }

  async openPullRequest(fullName: string, input: PullRequestInput): Promise<PullRequest> {
    const repo = this.repository(fullName);
    const destination = input.destination ?? repo.mainBranch;
    const sourceRepository = input.sourceRepository ? this.repository(input.sourceRepository) : undefined;
    if (sourceRepository && sourceRepository.parent !== repo) throw new Error(`${input.sourceRepository} is not a fork of ${fullName}`);
    const sourceHash = await (sourceRepository ?? repo).git.branchHead(input.source);
    const destinationHash = await repo.git.branchHead(destination);
    if (!sourceHash || !destinationHash) throw new Error(`both branches must exist: ${input.source} -> ${destination}`);
    // The id is taken and the pull request recorded with no await in between, so pull requests
    // opened at the same time in one repository get distinct ids.
    const id = repo.pullRequests.length + 1;
    const now = this.site.now().toISOString();
    const pr: PullRequest = {
      id,
      title: input.title,
      description: input.description ?? '',
      sourceBranch: input.source,
      ...(sourceRepository ? { sourceRepository } : {}),
      destinationBranch: destination,
      sourceHash,
      destinationHash,
      mergeHash: null,
      state: 'OPEN',
      author: this.user,
      closedBy: null,
      createdOn: now,
      updatedOn: now,
      comments: [],
    };
    repo.pullRequests.push(pr);
    // Bitbucket keeps a fork's pull-request head in the destination under refs/pull-requests/{id}/from.
    if (sourceRepository) await repo.git.fetchFrom(sourceRepository.git, `+refs/heads/${input.source}:refs/pull-requests/${id}/from`);
    await this.sendEvent(repo, 'pullrequest:created', pullRequestPayload(this.site.resources, repo, pr, this.user), { pullRequest: pr });
    return pr;
  }

  /** Pushes to the pull request's source branch (repo:push + pullrequest:updated). */
  async updatePullRequest(fullName: string, id: number, files: Record<string, string | null>, message: string): Promise<string> {
    const pr = this.pullRequest(fullName, id);
    if (pr.state !== 'OPEN') throw new Error(`pull request #${id} is ${pr.state}`);
    return this.commit(pr.sourceRepository ? `${pr.sourceRepository.workspace.slug}/${pr.sourceRepository.slug}` : fullName, pr.sourceBranch, files, message);
  }

  async mergePullRequest(fullName: string, id: number): Promise<string> {
    const repo = this.repository(fullName);
    const pr = this.pullRequest(fullName, id);
    if (pr.state !== 'OPEN') throw new Error(`pull request #${id} is ${pr.state}`);
    if (pr.sourceRepository) throw new Error('merging a pull request from a fork is not simulated');
    const oldHash = await repo.git.branchHead(pr.destinationBranch);
    const mergeHash = await repo.git.merge(pr.destinationBranch, pr.sourceBranch, `Merged in ${pr.sourceBranch} (pull request #${pr.id})\n\n${pr.title}`, { name: this.user.display_name, email: 'sim.user@example.invalid' });
    Object.assign(pr, { state: 'MERGED', mergeHash, closedBy: this.user, updatedOn: this.site.now().toISOString() });
    await this.sendEvent(repo, 'pullrequest:fulfilled', pullRequestPayload(this.site.resources, repo, pr, this.user), { pullRequest: pr });
    await this.sendPush(repo, pr.destinationBranch, oldHash, mergeHash);
    return mergeHash;
  }

  async declinePullRequest(fullName: string, id: number): Promise<void> {
    const repo = this.repository(fullName);
    const pr = this.pullRequest(fullName, id);
    if (pr.state !== 'OPEN') throw new Error(`pull request #${id} is ${pr.state}`);
    Object.assign(pr, { state: 'DECLINED', closedBy: this.user, updatedOn: this.site.now().toISOString() });
    await this.sendEvent(repo, 'pullrequest:rejected', pullRequestPayload(this.site.resources, repo, pr, this.user), { pullRequest: pr });
  }

  pullRequest(fullName: string, id: number): PullRequest {
    const pr = this.repository(fullName).pullRequests.find((p) => p.id === id);
    if (!pr) throw new Error(`no pull request #${id} in ${fullName}`);
    return pr;
  }

  /** Sends a delivery again: same X-Request-UUID and body, next attempt number. */
  async redeliver(delivery: Delivery): Promise<Delivery> {
    const inst = this.site.installations.get(delivery.clientKey);
    if (!inst?.installed) throw new Error('the installation of that delivery is gone');
    const last = delivery.attempts.at(-1)?.attempt ?? 0;
    const again = await deliverWebhook({
      ...this.deliveryBase(inst),
      event: delivery.event,
      url: delivery.url,
      hookUuid: delivery.hookUuid,
      body: delivery.body,
      requestUuid: delivery.requestUuid,
      firstAttempt: last + 1,
    });
    this.deliveries.push(again);
    return again;
  }

  /** Delivers one event to every webhook module of the descriptor that subscribes to it. */
  async sendEvent(repo: Repository, event: string, data: unknown, source: Pick<SiteEvent, 'pullRequest' | 'move'> = {}): Promise<Delivery[]> {
    for (const listener of this.eventListeners) await listener({ repo, event, actor: this.user, ...source });
    const inst = [...this.site.installations.values()].find((i) => i.installed && i.principal.uuid === repo.workspace.uuid);
    if (!inst) return [];
    const descriptor = await this.getDescriptor();
    const results: Delivery[] = [];
    for (const url of webhookUrls(descriptor, event)) {
      const body = this.options.webhookFormat === 'bare' ? data : { event, data };
      const delivery = await deliverWebhook({ ...this.deliveryBase(inst), event, url, hookUuid: this.hookUuid(inst.clientKey, url), body });
      this.deliveries.push(delivery);
      results.push(delivery);
    }
    return results;
  }

  private deliveryBase(inst: Installation) {
    return {
      appBaseUrl: this.descriptor?.baseUrl ?? this.appBaseUrl,
      clientKey: inst.clientKey,
      sharedSecret: inst.sharedSecret,
      retryDelayMs: this.options.retryDelayMs ?? 1000,
      timeoutMs: this.options.webhookTimeoutMs,
      now: this.site.now,
    };
  }

  private hookUuid(clientKey: string, url: string): string {
    const key = `${clientKey} ${url}`;
    let uuid = this.hookUuids.get(key);
    if (!uuid) {
      uuid = randomUUID();
      this.hookUuids.set(key, uuid);
    }
    return uuid;
  }

  private async sendPush(repo: Repository, branch: string, oldHash: string | null, newHash: string | null): Promise<void> {
    const info = (h: string | null): Promise<CommitInfo | null> => (h ? repo.git.commitInfo(h) : Promise.resolve(null));
    const hashes = newHash ? await repo.git.commitsBetween(oldHash, newHash) : [];
    const move: BranchMove = {
      branch,
      oldHash,
      newHash,
      commits: await Promise.all(hashes.map((h) => repo.git.commitInfo(h))),
      newTip: await info(newHash),
      oldTip: await info(oldHash),
    };
    await this.sendEvent(repo, 'repo:push', pushPayload(this.site.resources, this.site.origins, repo, this.user, move), { move });
  }

  /** Signed URL of one of the app's web panels for a context, as the host page embeds it. */
  panelUrl(panelUrlTemplate: string, context: Record<string, string>, clientKey: string): string {
    const descriptor = this.descriptor;
    if (!descriptor) throw new Error('install first');
    const inst = this.site.installations.get(clientKey);
    if (!inst?.installed) throw new Error('not installed');
    const filled = panelUrlTemplate.replace(/\{([a-z_.]+)\}/gi, (_, name: string) => encodeURIComponent(context[name] ?? ''));
    // Module URLs are appended to the baseUrl (which may carry a path), not resolved against it.
    const url = new URL(moduleUrl(descriptor, filled));
    const token = signHostToken({
      clientKey,
      sharedSecret: inst.sharedSecret,
      method: 'GET',
      url: url.toString(),
      appBaseUrl: descriptor.baseUrl,
      subject: this.user.uuid,
      nowSeconds: Math.floor(this.site.now().getTime() / 1000),
      extra: { aud: [clientKey], context: { user: { accountId: this.user.account_id, uuid: this.user.uuid } } },
    });
    url.searchParams.set('jwt', token);
    return url.toString();
  }

  /**
   * Token handed to a panel through AP.context.getToken. Connect products issue these with
   * qsh "context-qsh"; Bitbucket apps should not rely on them for anything but calling their
   * own backend, which is what the simulator models.
   */
  contextToken(clientKey: string): string {
    const inst = this.site.installations.get(clientKey);
    if (!inst?.installed) throw new Error('no live installation with that clientKey');
    const nowSeconds = Math.floor(this.site.now().getTime() / 1000);
    return encodeSymmetric(
      { iss: clientKey, aud: [clientKey], sub: this.user.uuid, iat: nowSeconds, exp: nowSeconds + 180, qsh: 'context-qsh' },
      inst.sharedSecret,
      SymmetricAlgorithm.HS256,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      })),
    );
    await this.git.dispose();
  }
}

export function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  return Simulator.start(options);
}

async function listen(app: Express, port: number): Promise<{ server: Server; origin: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address() as AddressInfo;
      resolve({ server, origin: `http://127.0.0.1:${address.port}` });
    });
  });
}
