import { BitbucketCredentialsUnavailableError } from '../../bitbucket/auth/bearer.ts';
import { createBitbucketClient, type BitbucketClient } from '../../bitbucket/client.ts';
import type { Config } from '../../config.ts';
import { decryptSecret } from '../../crypto.ts';
import type { ForgeInstallation, Store } from '../../store/types.ts';
import type { ClientTuning } from './clients.ts';
import type { CallMeter } from '../../core/budget.ts';

/**
 * Bitbucket Cloud reached through a Forge installation: `apiBaseUrl` + `/2.0/...` with
 * `Authorization: Bearer <app system token>`, the latest unexpired token Forge delivered.
 *
 * A job starts only with a token that stays valid at least TOKEN_START_MARGIN_MS, longer than
 * a job runs, so a token does not expire between a report and its build status. Without one,
 * the job waits (BitbucketCredentialsUnavailableError) until the next event or hourly
 * scheduled trigger brings a fresh token; the worker re-queues it without spending an attempt.
 */

export const TOKEN_START_MARGIN_MS = 5 * 60_000;

/** True when the stored system token is still valid `marginMs` from now. */
export function tokenUsable(installation: ForgeInstallation, nowMs: number, marginMs = 0): boolean {
  return installation.systemToken !== null && Date.parse(installation.systemToken.expiresAt) - marginMs > nowMs;
}

/** What the workspace's pages and logs say while jobs wait for a token. */
export const WAITING_FOR_TOKEN = 'waiting for a new Forge app system token';

export function waitingForTokenMessage(installation: ForgeInstallation): string {
  const expired = installation.systemToken ? `expired at ${installation.systemToken.expiresAt}` : 'none delivered yet';
  return `${WAITING_FOR_TOKEN} (${expired}); scans resume with the next Bitbucket event or the hourly scheduled trigger`;
}

/**
 * The web origin links point at. Forge gives only the API origin: `api.bitbucket.org`'s site is
 * `bitbucket.org`; for any other API origin (the simulator) the first BITBUCKET_BASE_URLS entry.
 */
export function webBaseOf(apiBaseUrl: string, bitbucketBaseUrls: readonly string[]): string {
  const url = new URL(apiBaseUrl);
  if (url.hostname.startsWith('api.')) return `${url.protocol}//${url.host.slice(4)}`;
  return bitbucketBaseUrls[0] ?? url.origin;
}

export interface ForgeClientSource {
  /** The installed Forge installation serving this tenant key, if any. */
  installationFor(clientKey: string): Promise<ForgeInstallation | undefined>;
  /** A client for the tenant's Forge installation; throws BitbucketCredentialsUnavailableError without a usable token. */
  forInstallation(installation: ForgeInstallation): { client: BitbucketClient; baseUrl: string };
}

export function forgeClients(deps: {
  config: Pick<Config, 'encryptionKey' | 'bitbucketBaseUrls' | 'forge'>;
  store: Pick<Store, 'listForgeInstallations' | 'getForgeInstallation' | 'putForgeInstallation'>;
  budget: CallMeter;
  tuning?: ClientTuning;
  now?: () => number;
}): ForgeClientSource {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { apiBaseUrl: string; client: BitbucketClient }>();
  const decrypted = new Map<string, string>();

  async function currentToken(installationId: string): Promise<string> {
    const installation = await deps.store.getForgeInstallation(installationId);
    if (!installation || installation.state !== 'installed' || !tokenUsable(installation, now())) {
      throw new BitbucketCredentialsUnavailableError(installation ? waitingForTokenMessage(installation) : 'the Forge installation is gone');
    }
    const envelope = installation.systemToken!.encrypted;
    let token = decrypted.get(installationId + envelope);
    if (token === undefined) {
      token = decryptSecret(deps.config.encryptionKey, envelope);
      // One entry per installation: the previous token is dropped with its envelope.
      for (const key of decrypted.keys()) if (key.startsWith(installationId)) decrypted.delete(key);
      decrypted.set(installationId + envelope, token);
    }
    return token;
  }

  /**
   * Bitbucket refused the stored token before its `exp` (it expired early by Bitbucket's
   * clock, or was revoked): it is recorded as expired now, so later jobs wait at once instead
   * of each meeting a 401, the settings page says so, and the next delivered token releases
   * the waiting jobs (installations.ts). Only that token: a newer one stored meanwhile stays.
   */
  async function markRefused(installationId: string, token: string): Promise<void> {
    const installation = await deps.store.getForgeInstallation(installationId);
    const stored = installation?.systemToken;
    if (!installation || !stored || decrypted.get(installationId + stored.encrypted) !== token) return;
    const at = new Date(now()).toISOString();
    await deps.store.putForgeInstallation({ ...installation, systemToken: { ...stored, expiresAt: at }, updatedAt: at });
  }

  return {
    async installationFor(clientKey) {
      if (!deps.config.forge) return undefined;
      return (await deps.store.listForgeInstallations()).find((i) => i.clientKey === clientKey && i.state === 'installed');
    },
    forInstallation(installation) {
      if (!tokenUsable(installation, now(), TOKEN_START_MARGIN_MS)) throw new BitbucketCredentialsUnavailableError(waitingForTokenMessage(installation));
      const baseUrl = webBaseOf(installation.apiBaseUrl, deps.config.bitbucketBaseUrls);
      const cached = cache.get(installation.installationId);
      if (cached?.apiBaseUrl === installation.apiBaseUrl) return { client: cached.client, baseUrl };
      const client = createBitbucketClient({
        ...deps.tuning,
        auth: 'bearer',
        bearerToken: () => currentToken(installation.installationId),
        onTokenRefused: (token) => markRefused(installation.installationId, token),
        baseApiUrl: installation.apiBaseUrl,
        allowedApiOrigins: deps.config.forge?.apiUrls ?? [],
        fetch: deps.budget.meter(installation.clientKey, deps.tuning?.fetch ?? globalThis.fetch),
      });
      cache.set(installation.installationId, { apiBaseUrl: installation.apiBaseUrl, client });
      return { client, baseUrl };
    },
  };
}
