import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jsonwebtoken from 'jsonwebtoken';
import type { Account, Installation, Workspace } from '../model.ts';
import type { BearerCheck } from '../site.ts';
import type { PanelLocation, PanelSource, SiteEvent, Simulator } from '../simulator.ts';
import { deliverForgeEvent, FORGE_RETRY_DELAY_MS, type ForgeDelivery } from './delivery.ts';
import { lifecycleEvent, PULL_REQUEST_EVENTS, preUninstallEvent, pullRequestEvent, PUSH_EVENT, pushEvent, scheduledEvent, type AppInfo } from './events.ts';
import { createForgeOrigin } from './forge-origin.ts';
import { readManifest, type ForgeEndpoint, type ForgeUiModule, type LocalForgeManifest } from './manifest.ts';
import { ForgeTokenAuthority, newAppId, newInstallationId, SYSTEM_TOKEN_TTL_SECONDS, uiContext, USER_TOKEN_TTL_SECONDS } from './tokens.ts';

/**
 * A local Forge beside the simulated Bitbucket, used the way a developer uses Forge: `start`
 * registers the app (its id and the keys that sign its FITs, JWKS served over loopback HTTP
 * for FORGE_JWKS_URL), `deploy` takes the rendered manifest, `install` installs it in a
 * workspace. It signs every call
 * to the remote with a FIT from its own keys (JWKS served over loopback HTTP for
 * FORGE_JWKS_URL), hands out app system and user tokens the simulated API checks, installs
 * and uninstalls the app per workspace, turns the simulator's user actions into Forge's
 * Bitbucket events (with Forge's retries), runs the scheduled triggers on request, and hosts
 * the Custom UI resources in iframes with a stand-in for the bridge (forge-origin.ts).
 */

export interface LocalForgeOptions {
  sim: Simulator;
  /** The app ARI, as `forge register` gives it (default: a new one). */
  appId?: string;
  port?: number;
  /** Pause between retries (Forge: 60 s; tests use 0). */
  retryDelayMs?: number;
  retries?: number;
  timeoutMs?: number;
  /** The app's major version, as FITs and lifecycle events carry it. */
  appVersion?: string;
}

export interface ForgeInstallation {
  installationId: string;
  workspace: Workspace;
  installed: boolean;
  /** What the simulated API sees a token of this installation act for. */
  record: Installation;
}

/** Where a Custom UI frame is shown; the FIT's `context` is built from it, never from the frame. */
export interface UiPlace {
  workspace: string;
  /** `workspace/slug` for the repository and pull-request panels. */
  repository?: string;
  pullRequestId?: number;
}

interface Frame {
  module: ForgeUiModule;
  installationId: string;
  context: Record<string, unknown>;
}

export interface UiAnswer {
  status: number;
  headers: Record<string, string[]>;
  body?: Record<string, unknown>;
}

const MODULE_TYPE: Record<PanelLocation, string> = {
  repository: 'bitbucket:repoCodeOverviewPanel',
  pullRequest: 'bitbucket:repoPullRequestOverviewPanel',
  workspaceSettings: 'bitbucket:workspaceSettingsMenuPage',
};
/** Frames remembered at once; a long-running demo reloading pages forgets the oldest. */
const MAX_FRAMES = 1000;

export class LocalForge implements PanelSource {
  private deployed: LocalForgeManifest | undefined;
  readonly authority: ForgeTokenAuthority;
  readonly deliveries: ForgeDelivery[] = [];
  /** Lifetime of the next system tokens handed out (tests shorten it to expire one mid-job). */
  systemTokenTtlSeconds = SYSTEM_TOKEN_TTL_SECONDS;
  /** While false the JWKS answers 503, as when Forge's CDN is out of reach. */
  jwksAvailable = true;
  /**
   * While true, trigger deliveries wait in `held` instead of going out: Forge's events can
   * arrive minutes late and out of order (an event before `installed`, one after preUninstall).
   */
  holdDeliveries = false;
  readonly held: { install: ForgeInstallation; eventType: string; body: unknown }[] = [];
  private readonly installs = new Map<string, ForgeInstallation>();
  private readonly frames = new Map<string, Frame>();
  private server: Server | undefined;
  private originUrl = '';
  private readonly appInfo: AppInfo;
  private readonly verifier = (token: string) => this.checkBearer(token);
  private readonly listener = (event: SiteEvent) => this.onSiteEvent(event);

  private constructor(private readonly options: LocalForgeOptions) {
    this.authority = new ForgeTokenAuthority({ appId: options.appId ?? newAppId(), now: options.sim.site.now });
    const appUuid = this.appId.slice(this.appId.lastIndexOf('/') + 1);
    this.appInfo = { id: appUuid, name: 'Gatehouse', version: `${options.appVersion ?? '1'}.0.0`, ownerAccountId: options.sim.user.account_id, environmentId: randomUUID() };
  }

  static async start(options: LocalForgeOptions): Promise<LocalForge> {
    const forge = new LocalForge(options);
    const server = createForgeOrigin(forge).listen(options.port ?? 0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    forge.server = server;
    forge.originUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    options.sim.site.bearerVerifiers.push(forge.verifier);
    options.sim.eventListeners.push(forge.listener);
    options.sim.panelSources.push(forge);
    return forge;
  }

  get appId(): string {
    return this.authority.appId;
  }

  /** The deployed manifest; throws before `deploy`. */
  get manifest(): LocalForgeManifest {
    if (!this.deployed) throw new Error('deploy a manifest first (forge deploy)');
    return this.deployed;
  }

  /**
   * `forge deploy`: takes the rendered manifest.yml; `manifestDir` is where its resource paths
   * start. Refused when it names another app or lacks what it points at.
   */
  deploy(manifestYaml: string, manifestDir: string): void {
    const manifest = readManifest(manifestYaml, manifestDir);
    if (manifest.appId !== this.appId) throw new Error(`the manifest is for app ${manifest.appId}, this Forge registered ${this.appId}`);
    this.deployed = manifest;
  }

  get sim(): Simulator {
    return this.options.sim;
  }

  get origin(): string {
    return this.originUrl;
  }

  get jwksUrl(): string {
    return `${this.originUrl}/.well-known/jwks.json`;
  }

  installation(workspace: string): ForgeInstallation | undefined {
    return [...this.installs.values()].find((i) => i.installed && i.workspace.slug === workspace);
  }

  /**
   * Installs the app in a workspace: a new installationId every time (also on a reinstall),
   * then `avi:forge:installed:app` to the triggers that listen for it.
   */
  async install(workspace = 'acme'): Promise<ForgeDelivery[]> {
    if (this.installation(workspace)) throw new Error(`the Forge app is already installed in ${workspace}`);
    const ws = this.sim.workspace(workspace);
    const installationId = newInstallationId();
    const record: Installation = { clientKey: installationId, sharedSecret: '', installed: true, principal: ws, installedOn: this.sim.site.now().toISOString() };
    const install: ForgeInstallation = { installationId, workspace: ws, installed: true, record };
    this.installs.set(installationId, install);
    return this.trigger(install, 'avi:forge:installed:app', lifecycleEvent('avi:forge:installed:app', this.appInfo, installationId.slice(installationId.lastIndexOf('/') + 1), ws, this.sim.user));
  }

  /** A major-version upgrade: the only time Forge sends `avi:forge:upgraded:app`. */
  async upgrade(workspace = 'acme', majorVersion = '2'): Promise<ForgeDelivery[]> {
    const install = this.require(workspace);
    this.appInfo.version = `${majorVersion}.0.0`;
    this.options.appVersion = majorVersion;
    return this.trigger(install, 'avi:forge:upgraded:app', lifecycleEvent('avi:forge:upgraded:app', this.appInfo, install.installationId.slice(install.installationId.lastIndexOf('/') + 1), install.workspace, this.sim.user));
  }

  /** preUninstall (55 s, no user), then the installation and all its tokens are gone. */
  async uninstall(workspace = 'acme'): Promise<ForgeDelivery[]> {
    const install = this.require(workspace);
    const deliveries: ForgeDelivery[] = [];
    for (const p of this.manifest.preUninstall) {
      deliveries.push(await this.deliver(install, 'preUninstall', p.endpoint, { type: 'core:preUninstall', key: p.key }, preUninstallEvent(this.appInfo, install.workspace, this.sim.site.now()), { timeoutMs: 55_000, retries: 0 }));
    }
    install.installed = false;
    install.record.installed = false;
    this.authority.revokeInstallation(install.installationId);
    return deliveries;
  }

  /** One tick of every scheduled trigger for every live installation (Forge runs them hourly). */
  async runScheduledTriggers(): Promise<ForgeDelivery[]> {
    const deliveries: ForgeDelivery[] = [];
    for (const install of [...this.installs.values()].filter((i) => i.installed)) {
      for (const t of this.manifest.scheduledTriggers) {
        deliveries.push(await this.deliver(install, 'scheduledTrigger', t.endpoint, { type: 'core:scheduledTrigger', key: t.key }, scheduledEvent(t.key, this.sim.site.now())));
      }
    }
    return deliveries;
  }

  /** Delivers a Forge event the way the platform would, for tests of odd deliveries. */
  async sendEvent(workspace: string, eventType: string, body: unknown): Promise<ForgeDelivery[]> {
    return this.trigger(this.require(workspace), eventType, body);
  }

  private require(workspace: string): ForgeInstallation {
    const install = this.installation(workspace);
    if (!install) throw new Error(`the Forge app is not installed in ${workspace}`);
    return install;
  }

  private async onSiteEvent(event: SiteEvent): Promise<void> {
    if (!this.deployed) return;
    const install = [...this.installs.values()].find((i) => i.installed && i.workspace.uuid === event.repo.workspace.uuid);
    if (!install) return;
    const now = this.sim.site.now();
    const pullRequestEvent_ = PULL_REQUEST_EVENTS[event.event];
    if (pullRequestEvent_ && event.pullRequest) await this.trigger(install, pullRequestEvent_, pullRequestEvent(event.repo, event.pullRequest, event.actor, pullRequestEvent_, now));
    else if (event.event === 'repo:push' && event.move) await this.trigger(install, PUSH_EVENT, pushEvent(event.repo, event.move, event.actor, now));
  }

  /**
   * Sends the held deliveries of one event type (all when none is named), in the order they
   * were held, each signed now: for an installation since uninstalled too, as a late event is.
   */
  async releaseHeld(eventType?: string): Promise<ForgeDelivery[]> {
    const due = this.held.filter((h) => eventType === undefined || h.eventType === eventType);
    for (const h of due) this.held.splice(this.held.indexOf(h), 1);
    const deliveries: ForgeDelivery[] = [];
    for (const h of due) deliveries.push(...(await this.deliverTrigger(h.install, h.eventType, h.body)));
    return deliveries;
  }

  private async trigger(install: ForgeInstallation, eventType: string, body: unknown): Promise<ForgeDelivery[]> {
    if (this.holdDeliveries) {
      this.held.push({ install, eventType, body });
      return [];
    }
    return this.deliverTrigger(install, eventType, body);
  }

  private async deliverTrigger(install: ForgeInstallation, eventType: string, body: unknown): Promise<ForgeDelivery[]> {
    const deliveries: ForgeDelivery[] = [];
    for (const t of this.manifest.triggers.filter((t) => t.events.includes(eventType))) {
      deliveries.push(await this.deliver(install, eventType, t.endpoint, { type: 'core:trigger', key: t.key }, body));
    }
    return deliveries;
  }

  private async deliver(
    install: ForgeInstallation,
    eventType: string,
    endpoint: ForgeEndpoint,
    module: { type: string; key: string },
    body: unknown,
    overrides: { timeoutMs?: number; retries?: number } = {},
  ): Promise<ForgeDelivery> {
    const delivery = await deliverForgeEvent({
      eventType,
      installationId: install.installationId,
      url: endpoint.url,
      body,
      headers: () => this.invocationHeaders(install, endpoint, { module }),
      retries: overrides.retries ?? this.options.retries,
      retryDelayMs: this.options.retryDelayMs ?? FORGE_RETRY_DELAY_MS,
      timeoutMs: overrides.timeoutMs ?? this.options.timeoutMs,
      now: this.sim.site.now,
    });
    this.deliveries.push(delivery);
    return delivery;
  }

  /** A fresh FIT (and the tokens the endpoint asks for) for one call to the remote. */
  private invocationHeaders(
    install: ForgeInstallation,
    endpoint: ForgeEndpoint,
    call: { module: { type: string; key: string }; context?: Record<string, unknown>; user?: Account },
  ): { headers: Record<string, string>; fitId: string } {
    const identity = { installationId: install.installationId, workspaceId: install.workspace.uuid.replace(/[{}]/g, ''), apiBaseUrl: this.sim.apiOrigin };
    const fit = this.authority.signFit({
      ...identity,
      appVersion: this.options.appVersion ?? '1',
      module: call.module,
      ...(call.context ? { context: call.context } : {}),
      ...(call.user ? { principal: call.user.account_id } : {}),
    });
    const headers: Record<string, string> = { Authorization: `Bearer ${fit}` };
    if (endpoint.systemToken) headers['x-forge-oauth-system'] = this.authority.systemToken(identity, this.systemTokenTtlSeconds).token;
    if (endpoint.userToken && call.user) headers['x-forge-oauth-user'] = this.authority.userToken(identity, call.user.account_id, USER_TOKEN_TTL_SECONDS).token;
    const fitId = String((jsonwebtoken.decode(fit) as { jti?: unknown } | null)?.jti ?? '');
    return { headers, fitId };
  }

  /** What the simulated API makes of a bearer token this Forge issued. */
  private checkBearer(token: string): BearerCheck | undefined {
    const check = this.authority.checkOAuthToken(token);
    if (!check.ok) return check.reason === 'malformed' ? undefined : { refused: `Forge token ${check.reason}` };
    const install = this.installs.get(check.claims.installationId);
    if (!install?.installed) return { refused: 'Forge token of an uninstalled app' };
    const user = check.claims.kind === 'user' ? (check.claims.accountId === this.sim.user.account_id ? this.sim.user : undefined) : undefined;
    if (check.claims.kind === 'user' && !user) return { refused: 'Forge user token of an unknown user' };
    return { installation: install.record, scopes: this.manifest.scopes, ...(user ? { user } : {}) };
  }

  /** The app's Custom UI frames for a place on a host page, when it is installed in that workspace. */
  panels(location: PanelLocation, place: UiPlace): { title: string; src: string }[] {
    if (!this.deployed || !this.installation(place.workspace)) return [];
    return this.manifest.uiModules.filter((m) => m.type === MODULE_TYPE[location]).map((m) => ({ title: m.title, src: `${this.originUrl}/frame/${this.openFrame(m, place)}` }));
  }

  /**
   * Registers one iframe for a module at a place and returns its id. The id is the frame's
   * only credential towards /_forge/invoke; the context the FIT carries comes from here.
   */
  openFrame(module: ForgeUiModule, place: UiPlace): string {
    const install = this.require(place.workspace);
    const repo = place.repository ? this.sim.repository(place.repository) : undefined;
    const context = uiContext({
      workspaceId: install.workspace.uuid.replace(/[{}]/g, ''),
      moduleKey: module.key,
      ...(repo ? { repositoryUuid: repo.uuid.replace(/[{}]/g, '') } : {}),
      ...(place.pullRequestId !== undefined ? { pullRequestId: place.pullRequestId } : {}),
    });
    const id = randomBytes(16).toString('base64url');
    this.frames.set(id, { module, installationId: install.installationId, context });
    if (this.frames.size > MAX_FRAMES) this.frames.delete(this.frames.keys().next().value as string);
    return id;
  }

  frame(id: string): Frame | undefined {
    return this.frames.get(id);
  }

  /** invokeRemote from a frame: Forge signs the call for the frame's context and the user, and proxies it. */
  async invokeFromFrame(frameId: string, request: { path: string; method: string; body?: unknown }): Promise<UiAnswer> {
    const frame = this.frames.get(frameId);
    const install = frame ? this.installs.get(frame.installationId) : undefined;
    if (!frame || !install?.installed) return { status: 404, headers: {}, body: { error: { code: 'unknown_frame', message: 'This panel is no longer installed; reload the page.' } } };
    const { module } = frame;
    const { headers } = this.invocationHeaders(install, module.resolver, { module: { type: module.type, key: module.key }, context: frame.context, user: this.sim.user });
    const hasBody = request.method !== 'GET' && request.body !== undefined;
    const res = await fetch(`${module.resolver.baseUrl}${request.path}`, {
      method: request.method,
      headers: { ...headers, Accept: 'application/json', ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
      ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(25_000),
    });
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      // Forge passes only JSON bodies back to the frame.
      body = undefined;
    }
    const answerHeaders: Record<string, string[]> = {};
    res.headers.forEach((value, name) => {
      answerHeaders[name] = [value];
    });
    return { status: res.status, headers: answerHeaders, ...(body ? { body } : {}) };
  }

  /** Stops serving and detaches from the simulator (its tokens stop being accepted). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const { site, eventListeners } = this.sim;
    site.bearerVerifiers.splice(site.bearerVerifiers.indexOf(this.verifier), 1);
    eventListeners.splice(eventListeners.indexOf(this.listener), 1);
    this.sim.panelSources.splice(this.sim.panelSources.indexOf(this), 1);
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}
