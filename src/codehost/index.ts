import type { Config } from '../config.ts';
import type { CallMeter } from '../core/budget.ts';
import type { Store } from '../store/types.ts';
import { bitbucketClients, type ClientTuning } from './cloud/clients.ts';
import { cloudCodeHost } from './cloud/code-host.ts';
import { DATACENTER_TENANT_PREFIX, datacenterCodeHosts } from './datacenter/index.ts';
import { CodeHostRegistry } from './registry.ts';

export interface CodeHostDeps {
  config: Pick<Config, 'appKey' | 'encryptionKey' | 'bitbucketApiUrls' | 'bitbucketBaseUrls' | 'forge'>;
  store: Pick<Store, 'getInstallation' | 'listForgeInstallations' | 'getForgeInstallation' | 'putForgeInstallation' | 'getDatacenterInstance'>;
  /** Every host's calls are metered per tenant key by this one budget (or its background view, for coverage). */
  budget: CallMeter;
  tuning?: ClientTuning;
  /** Milliseconds; what Forge token expiries are judged by. */
  now?: () => number;
}

/**
 * The code hosts the job pipeline reaches, by tenant kind. Bitbucket Cloud tenants (a plain
 * clientKey, reached through Connect or, once the workspace moved, Forge) are the default;
 * other kinds register here with `.register(prefix, factory)`.
 */
export function createCodeHosts(deps: CodeHostDeps): CodeHostRegistry {
  const cloud = bitbucketClients(deps);
  return new CodeHostRegistry(async (clientKey) => {
    const { client, baseUrl } = await cloud.forInstallation(clientKey);
    return cloudCodeHost(client, baseUrl, { workspace: () => cloud.workspaceOf(clientKey), gitAuthorization: () => cloud.gitAuthorization(clientKey) });
  }).register(DATACENTER_TENANT_PREFIX, datacenterCodeHosts(deps));
}
