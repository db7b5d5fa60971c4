import jsonwebtoken from 'jsonwebtoken';
import type { Config } from '../config.ts';
import { encryptSecret } from '../crypto.ts';
import { releaseWaitingJobs } from '../core/release-waiting-jobs.ts';
import { TOKEN_START_MARGIN_MS, tokenUsable, WAITING_FOR_TOKEN } from '../codehost/cloud/forge-clients.ts';
import { HttpError } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import type { ForgeInstallation, Store } from '../store/types.ts';
import type { ForgeInvocation } from './fit.ts';

/**
 * Forge installations, kept from what verified FITs say, and the tenant key each one is
 * stored under.
 *
 * Tenant key. Results, policy and triage are keyed by the core's `clientKey`, and Forge's
 * installationId is new on every install, so it cannot be that key. The key is chosen once per
 * workspace and kept: the key of an earlier Forge installation of the same workspace (a
 * reinstall); else the clientKey of the workspace's Connect installation (Connect stores the
 * workspace as `principal.uuid`), so a workspace that moves from the Connect app keeps its
 * policy, triage marks and results; else `forge:<workspace uuid>`.
 */

export function forgeTenantKey(workspaceId: string): string {
  return `forge:${workspaceId}`;
}

function bare(uuid: string): string {
  return uuid.replace(/^\{|\}$/g, '').toLowerCase();
}

export async function tenantKeyFor(store: Pick<Store, 'listForgeInstallations' | 'listInstallations'>, workspaceId: string): Promise<string> {
  const earlier = (await store.listForgeInstallations())
    .filter((i) => i.workspaceId === workspaceId)
    .sort((a, b) => a.installedAt.localeCompare(b.installedAt))[0];
  if (earlier) return earlier.clientKey;
  const connect = (await store.listInstallations()).find((i) => i.principal?.uuid !== undefined && bare(i.principal.uuid) === workspaceId);
  return connect?.clientKey ?? forgeTenantKey(workspaceId);
}

/** The `exp` of an app system token, read without verification (Forge's tokens are opaque to us). */
export function tokenExpiry(token: string): number | undefined {
  const claims = jsonwebtoken.decode(token, { json: true });
  return typeof claims?.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : undefined;
}

/** Longest token accepted from the header; Forge's are a few KB. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface ForgeInstallationDeps {
  config: Pick<Config, 'encryptionKey'> & { forge: NonNullable<Config['forge']> };
  store: Store;
  now: () => Date;
  logger: Logger;
}

/** Where a verified invocation says Bitbucket is, checked against FORGE_API_URLS. */
function apiBaseUrlOf(invocation: ForgeInvocation, allowed: readonly string[]): string {
  const raw = invocation.bitbucket?.apiBaseUrl ?? invocation.apiBaseUrl;
  if (!raw) throw new HttpError(400, 'forge_no_api_base_url', 'The FIT names no Bitbucket apiBaseUrl');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpError(400, 'forge_no_api_base_url', 'The FIT apiBaseUrl is not a URL');
  }
  if (!allowed.includes(url.origin)) {
    throw new HttpError(403, 'forge_api_url_not_allowed', `The installation's apiBaseUrl origin ${url.origin} is not in FORGE_API_URLS`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The installation a verified FIT belongs to, created (bootstrapped from the FIT, whatever the
 * call: an event may come before `installed`) or brought up to date, and the system token from
 * `x-forge-oauth-system` offered to it. A reinstall (new installationId in a workspace) retires
 * the workspace's other installations: one live installation serves a tenant.
 */
export async function installationFor(deps: ForgeInstallationDeps, invocation: ForgeInvocation, systemToken: string | undefined): Promise<ForgeInstallation> {
  if (!invocation.bitbucket) throw new HttpError(403, 'forge_not_bitbucket', 'The FIT names no Bitbucket workspace (app.installation.contexts)');
  const apiBaseUrl = apiBaseUrlOf(invocation, deps.config.forge.apiUrls);
  const workspaceId = invocation.bitbucket.workspaceId;
  const at = deps.now().toISOString();
  const existing = await deps.store.getForgeInstallation(invocation.installationId);
  if (existing && existing.workspaceId !== workspaceId) {
    throw new HttpError(403, 'forge_workspace_mismatch', 'The FIT names another workspace than this installation was made for');
  }
  const facts = {
    apiBaseUrl,
    appVersion: invocation.appVersion ?? existing?.appVersion ?? null,
    environment: { type: invocation.environment?.type ?? null, id: invocation.environment?.id ?? null },
  };
  let installation: ForgeInstallation;
  if (!existing) {
    installation = {
      installationId: invocation.installationId,
      clientKey: await tenantKeyFor(deps.store, workspaceId),
      workspaceId,
      ...facts,
      state: 'installed',
      systemToken: null,
      installedAt: at,
      updatedAt: at,
    };
    await deps.store.putForgeInstallation(installation);
    await retireOthers(deps, installation, at);
    deps.logger.info({ installationId: installation.installationId, clientKey: installation.clientKey, workspaceId }, 'Forge installation recorded');
  } else if (existing.state !== 'installed') {
    // preUninstall came first; an uninstalled installationId is never used again by Forge.
    throw new HttpError(403, 'forge_uninstalled', 'This Forge installation was uninstalled');
  } else {
    installation = existing;
    if (existing.apiBaseUrl !== facts.apiBaseUrl || existing.appVersion !== facts.appVersion || existing.environment.type !== facts.environment.type || existing.environment.id !== facts.environment.id) {
      installation = { ...existing, ...facts, updatedAt: at };
      await deps.store.putForgeInstallation(installation);
    }
  }
  if (systemToken !== undefined) installation = await offerToken(deps, installation, systemToken, at);
  return installation;
}

async function retireOthers(deps: ForgeInstallationDeps, current: ForgeInstallation, at: string): Promise<void> {
  for (const other of await deps.store.listForgeInstallations()) {
    if (other.workspaceId !== current.workspaceId || other.installationId === current.installationId || other.state !== 'installed') continue;
    await deps.store.putForgeInstallation({ ...other, state: 'uninstalled', systemToken: null, updatedAt: at });
    deps.logger.info({ installationId: other.installationId, replacedBy: current.installationId }, 'Forge installation replaced by a reinstall');
  }
}

async function offerToken(deps: ForgeInstallationDeps, installation: ForgeInstallation, token: string, at: string): Promise<ForgeInstallation> {
  const exp = token.length <= MAX_TOKEN_LENGTH ? tokenExpiry(token) : undefined;
  if (exp === undefined) {
    deps.logger.warn({ installationId: installation.installationId }, 'x-forge-oauth-system is not a token with an exp; ignored');
    return installation;
  }
  if (exp * 1000 <= deps.now().getTime()) return installation;
  const offered = { encrypted: encryptSecret(deps.config.encryptionKey, token), expiresAt: new Date(exp * 1000).toISOString() };
  const kept = await deps.store.offerForgeSystemToken(installation.installationId, offered, at);
  if (!kept) return installation;
  const renewed = { ...installation, systemToken: offered, updatedAt: at };
  if (!tokenUsable(installation, deps.now().getTime(), TOKEN_START_MARGIN_MS) && tokenUsable(renewed, deps.now().getTime(), TOKEN_START_MARGIN_MS)) await releaseJobsWaitingForToken(deps, installation);
  return renewed;
}

/** Jobs that waited for a token (none, expired, or refused by Bitbucket) run now rather than at the end of their wait. */
async function releaseJobsWaitingForToken(deps: ForgeInstallationDeps, installation: ForgeInstallation): Promise<void> {
  const released = await releaseWaitingJobs(deps.store, installation.clientKey, deps.now(), (lastError) => lastError.includes(WAITING_FOR_TOKEN));
  if (released > 0) deps.logger.info({ installationId: installation.installationId, clientKey: installation.clientKey, released }, 'new Forge system token: jobs that waited for one run now');
}

/** preUninstall: the token is wiped and the installation's jobs can no longer reach Bitbucket. */
export async function uninstall(deps: ForgeInstallationDeps, installation: ForgeInstallation): Promise<void> {
  await deps.store.putForgeInstallation({ ...installation, state: 'uninstalled', systemToken: null, updatedAt: deps.now().toISOString() });
  deps.logger.info({ installationId: installation.installationId, clientKey: installation.clientKey }, 'Forge installation uninstalled; token wiped');
}
