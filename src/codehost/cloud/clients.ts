import { createBitbucketClient, type BitbucketClient, type BitbucketClientOptions } from '../../bitbucket/client.ts';
import type { Config } from '../../config.ts';
import { decryptSecret } from '../../crypto.ts';
import type { CallMeter } from '../../core/budget.ts';
import { TenantUnavailableError } from '../../core/code-host.ts';
import type { Store } from '../../store/types.ts';
import { forgeClients } from './forge-clients.ts';

/** HTTP client settings tests and benchmarks tune (fake sleep, short timeouts); production uses the clients' defaults. */
export type ClientTuning = Pick<BitbucketClientOptions, 'fetch' | 'sleep' | 'random' | 'timeoutMs' | 'maxRetries' | 'logger'>;

/** The Cloud REST client of a tenant (Connect, or Forge where it serves the workspace): for the Connect pages' own calls and the Cloud code host. */
export interface ClientSource {
  forInstallation(clientKey: string): Promise<{ client: BitbucketClient; baseUrl: string }>;
}

export interface GitTokenSource {
  /**
   * An access token of the installation as an `Authorization` value, for git over HTTPS: a
   * Connect installation's from the JWT bearer grant (cached until shortly before it expires),
   * a Forge installation's system token.
   */
  gitAuthorization(clientKey: string): Promise<string>;
}

export interface WorkspaceSource {
  /** The workspace a tenant's repositories are listed in: its Forge installation's, else its Connect installation's principal. */
  workspaceOf(clientKey: string): Promise<string>;
}

/**
 * One REST client per installation, built from its stored record (shared secret decrypted
 * here and nowhere else in the pipeline) and metered by the installation's call budget.
 * Cached until the record changes, so a reinstall with a new secret gets a new client.
 *
 * A tenant served by an installed Forge installation is reached through Forge (its system
 * token), even when its tenant key is the one its workspace had under Connect: a workspace
 * that moved to the Forge app keeps its data, and its Connect secret may be gone.
 */
export function bitbucketClients(deps: {
  config: Pick<Config, 'appKey' | 'encryptionKey' | 'bitbucketApiUrls' | 'bitbucketBaseUrls' | 'forge'>;
  store: Pick<Store, 'getInstallation' | 'listForgeInstallations' | 'getForgeInstallation' | 'putForgeInstallation'>;
  budget: CallMeter;
  tuning?: ClientTuning;
  /** Milliseconds; what token expiries are judged by. */
  now?: () => number;
}): ClientSource & GitTokenSource & WorkspaceSource {
  const cache = new Map<string, { envelope: string; client: BitbucketClient }>();
  // Connect clients holding an access token (git needs a token, not a signed request), apart from the signing ones.
  const tokenCache = new Map<string, { envelope: string; client: BitbucketClient }>();
  const forge = forgeClients(deps);

  async function connectClient(clientKey: string, auth: 'jwt' | 'oauth2-jwt'): Promise<{ client: BitbucketClient; baseUrl: string }> {
    const clients = auth === 'jwt' ? cache : tokenCache;
    const installation = await deps.store.getInstallation(clientKey);
    if (!installation || installation.state !== 'installed' || installation.encryptedSharedSecret === null) {
      clients.delete(clientKey);
      throw new TenantUnavailableError(`installation ${clientKey} is not installed; its job cannot reach Bitbucket`);
    }
    const envelope = `${installation.encryptedSharedSecret}|${installation.baseApiUrl}|${installation.baseUrl}`;
    const cached = clients.get(clientKey);
    if (cached?.envelope === envelope) return { client: cached.client, baseUrl: installation.baseUrl };
    const client = createBitbucketClient({
      ...deps.tuning,
      appKey: deps.config.appKey,
      clientKey,
      baseUrl: installation.baseUrl,
      baseApiUrl: installation.baseApiUrl,
      sharedSecret: decryptSecret(deps.config.encryptionKey, installation.encryptedSharedSecret),
      allowedApiOrigins: deps.config.bitbucketApiUrls,
      allowedBaseOrigins: deps.config.bitbucketBaseUrls,
      auth,
      fetch: deps.budget.meter(clientKey, deps.tuning?.fetch ?? globalThis.fetch),
    });
    clients.set(clientKey, { envelope, client });
    return { client, baseUrl: installation.baseUrl };
  }

  return {
    async forInstallation(clientKey) {
      const viaForge = await forge.installationFor(clientKey);
      if (viaForge) return forge.forInstallation(viaForge);
      return connectClient(clientKey, 'jwt');
    },
    async gitAuthorization(clientKey) {
      const viaForge = await forge.installationFor(clientKey);
      const { client } = viaForge ? forge.forInstallation(viaForge) : await connectClient(clientKey, 'oauth2-jwt');
      return client.accessAuthorization();
    },
    async workspaceOf(clientKey) {
      const viaForge = await forge.installationFor(clientKey);
      if (viaForge) return `{${viaForge.workspaceId}}`;
      const p = (await deps.store.getInstallation(clientKey))?.principal;
      const workspace = p?.slug ?? p?.username ?? p?.uuid;
      if (!workspace) throw new TenantUnavailableError(`installation ${clientKey} names no workspace; its repositories cannot be listed`);
      return workspace;
    },
  };
}
