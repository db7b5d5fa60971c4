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
 * differs from the one Bitbucket refused. With `onRefused`, a 401 with nothing newer becomes
 * BitbucketCredentialsUnavailableError once `onRefused` has recorded the refusal.
 */
export function bearerAuth(current: BearerTokenSource, onRefused?: (token: string) => Promise<void>): AuthStrategy {
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
    ...(onRefused
      ? {
          // Refused with nothing newer at hand (expired early, clocks apart, revoked): the
          // platform delivers another token soon, so the caller waits instead of failing.
          async refusal(authorization: string) {
            await onRefused(authorization.replace(/^Bearer /, ''));
            return new BitbucketCredentialsUnavailableError('Bitbucket refused the Forge app system token (401) before its expiry: waiting for a new Forge app system token');
          },
        }
      : {}),
  };
}
