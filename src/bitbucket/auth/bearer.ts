import { BitbucketError } from '../errors.ts';
import type { AuthStrategy } from './types.ts';

/**
 * No usable token right now (none delivered yet, or the last one expired). Nothing was sent.
 * Not a failure of the request: the caller waits until its platform delivers a new token
 * (Forge sends one with every event and every hourly scheduled trigger).
 */
export class BitbucketCredentialsUnavailableError extends BitbucketError {
  override name = 'BitbucketCredentialsUnavailableError';
}

/** Hands out the current token, or throws BitbucketCredentialsUnavailableError. Never logged. */
export type BearerTokenSource = () => Promise<string>;

/**
 * `Authorization: Bearer <token>` with a token someone else issues and refreshes (Forge's app
 * system token). The token is asked for again on every attempt, so a newer one delivered while
 * a job runs is used at once; after a 401 the request is retried only when that newer token
 * differs from the one Bitbucket refused.
 */
export function bearerAuth(current: BearerTokenSource): AuthStrategy {
  let latest: string | undefined;
  return {
    kind: 'bearer',
    async authorize() {
      latest = `Bearer ${await current()}`;
      return latest;
    },
    rejected(authorization) {
      return latest !== undefined && latest !== authorization;
    },
  };
}
