import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import { decryptSecret } from '../../crypto.ts';
import type { CallMeter } from '../../core/budget.ts';
import { TenantCredentialsRejectedError, TenantUnavailableError, type CodeHost } from '../../core/code-host.ts';
import type { DatacenterInstance, Store } from '../../store/types.ts';
import type { ClientTuning } from '../cloud/clients.ts';
import type { CodeHostFactory } from '../registry.ts';
import { DatacenterClient } from './client.ts';
import { datacenterCodeHost } from './code-host.ts';

/** Tenant keys of Data Center instances: `datacenter:<instanceId>` (the clientKey of their deliveries, jobs and results). */
export const DATACENTER_TENANT_PREFIX = 'datacenter:';

/**
 * Names one registration of an instance's token without revealing it: a hash of its encrypted
 * form, which a new registration (even of the same token) changes.
 */
export function tokenFingerprintOf(instance: Pick<DatacenterInstance, 'encryptedToken'>): string {
  return createHash('sha256').update(instance.encryptedToken).digest('hex').slice(0, 16);
}

/**
 * The code host of each registered Data Center instance, built from its stored record (token
 * decrypted here and nowhere else) and metered by the instance's call budget. Cached until the
 * record's token or base URL changes; read per job, so an instance removed or re-registered while
 * the server runs takes effect at the next job. A token the instance refuses fails the job with
 * TenantCredentialsRejectedError; the job runner's outcome hook (src/datacenter/status.ts) marks
 * the instance `token_revoked` (one write, one log line), and its further jobs then wait before
 * any call until an operator registers a new token.
 */
export function datacenterCodeHosts(deps: {
  config: Pick<Config, 'encryptionKey'>;
  store: Pick<Store, 'getDatacenterInstance'>;
  budget: CallMeter;
  tuning?: ClientTuning;
}): CodeHostFactory {
  const cache = new Map<string, { envelope: string; host: CodeHost }>();
  return async (tenantKey) => {
    const instanceId = tenantKey.slice(DATACENTER_TENANT_PREFIX.length);
    const instance = await deps.store.getDatacenterInstance(instanceId);
    if (!instance) {
      cache.delete(tenantKey);
      throw new TenantUnavailableError(`Data Center instance ${instanceId} is not registered; its job cannot reach Bitbucket`);
    }
    // Known refused: no call would succeed until an operator registers a new token (which resets the status).
    if (instance.status === 'token_revoked') {
      throw new TenantCredentialsRejectedError(tenantKey, instance.lastError?.message ?? `Bitbucket Data Center instance ${instance.name} refused its access token`, tokenFingerprintOf(instance));
    }
    const envelope = `${instance.encryptedToken}|${instance.baseUrl}`;
    const cached = cache.get(tenantKey);
    if (cached?.envelope === envelope) return cached.host;
    const client = new DatacenterClient({
      ...deps.tuning,
      baseUrl: instance.baseUrl,
      token: decryptSecret(deps.config.encryptionKey, instance.encryptedToken),
      tenantKey,
      credentials: tokenFingerprintOf(instance),
      fetch: deps.budget.meter(tenantKey, deps.tuning?.fetch ?? globalThis.fetch),
      // A new token is a new record (envelope above); this client is of no further use.
      onCredentialsRejected: async () => {
        cache.delete(tenantKey);
      },
    });
    const host = datacenterCodeHost(client, instanceId);
    cache.set(tenantKey, { envelope, host });
    return host;
  };
}
