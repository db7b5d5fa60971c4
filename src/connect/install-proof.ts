import { createBitbucketClient } from '../bitbucket/client.ts';
import { BitbucketApiError, BitbucketError } from '../bitbucket/errors.ts';
import type { ClientTuning } from '../codehost/cloud/clients.ts';
import { HttpError } from '../http/errors.ts';

/**
 * The install callback waits for this proof, and Bitbucket gives a lifecycle call about 10 s:
 * one quick retry, then 503 so that Bitbucket tries the whole install again later.
 */
export const INSTALL_PROOF_DEFAULTS = { timeoutMs: 4_000, maxRetries: 1 } as const;

export interface InstallClaim {
  appKey: string;
  clientKey: string;
  sharedSecret: string;
  baseUrl: string;
  baseApiUrl: string;
  allowedBaseOrigins: readonly string[];
  allowedApiOrigins: readonly string[];
}

/**
 * Proves that an unsigned install's shared secret is the one Bitbucket holds for its clientKey,
 * before anything is stored: the installation's (allow-listed) `baseUrl` must issue an access
 * token for a JWT bearer grant signed with that secret (`urn:bitbucket:oauth2:jwt`, BITBUCKET.md).
 * A clientKey is guessable (it is derived from the workspace UUID), so without this anyone could
 * install first under a workspace's clientKey with a secret of their own, and the real install,
 * which Bitbucket signs with the secret it issued, would then be refused for good.
 *
 * Refused by Bitbucket: 401, nothing stored. Bitbucket unreachable or failing: 503, nothing
 * stored (an unverified install is never kept; Bitbucket retries a failed lifecycle call).
 */
export async function proveSharedSecret(claim: InstallClaim, tuning: ClientTuning = {}): Promise<void> {
  const client = createBitbucketClient({ ...INSTALL_PROOF_DEFAULTS, ...tuning, ...claim, auth: 'oauth2-jwt' });
  const where = `${claim.baseUrl}/site/oauth2/access_token`;
  try {
    await client.authenticate();
  } catch (error) {
    if (error instanceof BitbucketApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
      throw new HttpError(
        401,
        'install_not_proven',
        `Bitbucket refused the JWT bearer grant signed with this install's shared secret (${where} answered ${error.status}); an install must come from Bitbucket itself`,
      );
    }
    if (error instanceof BitbucketError) {
      throw new HttpError(503, 'install_not_verifiable', `Could not confirm this install with Bitbucket (${where}: ${error.message}); nothing was stored, try the install again`);
    }
    throw error;
  }
}
