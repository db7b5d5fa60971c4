import jsonwebtoken from 'jsonwebtoken';
import { z } from 'zod';
import type { JwksCache } from './jwks.ts';

/**
 * Verification of the Forge Invocation Token (FIT) Forge puts on every call to the remote
 * (`Authorization: Bearer <fit>`). Only RS256 with a key from the JWKS; the algorithm is
 * checked on the unverified header before any key is looked up, so `none` and HS256 signed
 * with the public key never reach a verifier. `aud` is compared with FORGE_APP_ID from the
 * configuration, never with anything the token says about itself.
 */

export const FIT_ISSUER = 'forge/invocation-token';

/**
 * Clock difference allowed between Forge and us for `exp` and `nbf`, in seconds. A FIT lives
 * about 25 s, so this is kept small: enough for clock skew, not enough to widen replay much.
 */
export const FIT_CLOCK_LEEWAY_SECONDS = 10;

/** Real FITs are 1-3 KB; a larger Authorization header is refused before any decoding. */
export const MAX_FIT_LENGTH = 16 * 1024;

export type FitFailure =
  | 'fit_missing'
  | 'fit_malformed'
  | 'fit_algorithm_not_allowed'
  | 'fit_unknown_key'
  | 'fit_invalid_signature'
  | 'fit_wrong_issuer'
  | 'fit_wrong_audience'
  | 'fit_expired'
  | 'fit_not_yet_valid'
  | 'fit_isolated_cloud'
  | 'fit_invalid_claims';

const ari = (kind: string) => z.string().regex(new RegExp(`^ari:cloud:ecosystem::${kind}/[A-Za-z0-9._/-]{1,200}$`), `expected an ${kind} ARI`);

const bitbucketContext = z.object({
  name: z.literal('bitbucket'),
  apiBaseUrl: z.string().max(2048),
  workspaceId: z.string().regex(/^\{?[0-9a-fA-F-]{1,64}\}?$/, 'expected a workspace UUID'),
});

const claimsSchema = z.object({
  app: z.object({
    id: z.string(),
    version: z.union([z.string().max(64), z.number()]).transform(String).optional(),
    installationId: ari('installation'),
    apiBaseUrl: z.string().max(2048).optional(),
    environment: z.object({ type: z.string().max(32).optional(), id: z.string().max(512).optional() }).optional(),
    module: z.object({ type: z.string().max(128).optional(), key: z.string().max(256).optional() }).optional(),
    installation: z.object({ contexts: z.array(z.unknown()).max(20).optional() }).optional(),
  }),
  context: z.record(z.string(), z.unknown()).optional(),
  principal: z.string().max(256).optional(),
  exp: z.number(),
  jti: z.string().max(256).optional(),
});

/** What a verified FIT says, in the shape the remote uses. */
export interface ForgeInvocation {
  installationId: string;
  appVersion: string | undefined;
  environment: { type?: string; id?: string } | undefined;
  /** `app.apiBaseUrl` as sent (the fallback when there is no Bitbucket context). */
  apiBaseUrl: string | undefined;
  /** The Bitbucket entry of `app.installation.contexts`: workspace UUID without braces. */
  bitbucket: { apiBaseUrl: string; workspaceId: string } | undefined;
  module: { type?: string; key?: string } | undefined;
  /** UI calls only: the page the call comes from. */
  context: Record<string, unknown> | undefined;
  /** UI calls only: the user's account id. */
  principal: string | undefined;
  /** Seconds since the epoch. */
  exp: number;
}

export type FitVerification = { ok: true; invocation: ForgeInvocation } | { ok: false; reason: FitFailure; message: string };

function fail(reason: FitFailure, message: string): FitVerification {
  return { ok: false, reason, message };
}

/** `Bearer <token>` from the Authorization header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization || authorization.length > MAX_FIT_LENGTH + 16) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

function unverifiedHeader(token: string): Record<string, unknown> | undefined {
  const segment = token.slice(0, token.indexOf('.'));
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface FitVerifierOptions {
  /** FORGE_APP_ID: the only audience accepted. */
  appId: string;
  keys: Pick<JwksCache, 'keyFor'>;
  now: () => Date;
}

/**
 * Returns the verified invocation or why the token is refused. Throws JwksUnavailableError
 * (from the key cache) when the keys cannot be fetched: that is not the token's fault.
 */
export function fitVerifier(options: FitVerifierOptions) {
  return async (token: string | undefined): Promise<FitVerification> => {
    if (!token) return fail('fit_missing', 'No Forge Invocation Token: expected Authorization: Bearer <FIT>');
    if (token.length > MAX_FIT_LENGTH || token.split('.').length !== 3) return fail('fit_malformed', 'The FIT is not a compact JWT');
    const header = unverifiedHeader(token);
    if (!header) return fail('fit_malformed', 'The FIT header cannot be decoded');
    if (header.alg !== 'RS256') return fail('fit_algorithm_not_allowed', 'Only RS256 FITs are accepted');
    if (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 256) return fail('fit_malformed', 'The FIT header has no kid');

    const key = await options.keys.keyFor(header.kid);
    if (!key) return fail('fit_unknown_key', 'The FIT is signed with a key the Forge JWKS does not publish');

    let payload: unknown;
    try {
      payload = jsonwebtoken.verify(token, key, {
        algorithms: ['RS256'],
        issuer: FIT_ISSUER,
        clockTolerance: FIT_CLOCK_LEEWAY_SECONDS,
        clockTimestamp: Math.floor(options.now().getTime() / 1000),
      });
    } catch (error) {
      if (error instanceof jsonwebtoken.TokenExpiredError) return fail('fit_expired', 'The FIT has expired');
      if (error instanceof jsonwebtoken.NotBeforeError) return fail('fit_not_yet_valid', 'The FIT is not valid yet');
      const message = error instanceof Error ? error.message : '';
      if (message.startsWith('jwt issuer invalid')) return fail('fit_wrong_issuer', `The FIT issuer must be ${FIT_ISSUER}`);
      if (message === 'invalid signature') return fail('fit_invalid_signature', 'The FIT signature does not verify');
      return fail('fit_malformed', 'The FIT cannot be verified');
    }
    if (typeof payload !== 'object' || payload === null) return fail('fit_malformed', 'The FIT payload is not an object');
    const claims = payload as Record<string, unknown>;
    // Pinned to configuration: a token for another app, whatever it says, is not ours.
    if (claims.aud !== options.appId) return fail('fit_wrong_audience', 'The FIT is for another app');
    if ('icLabel' in claims) return fail('fit_isolated_cloud', 'FITs from Isolated Cloud (icLabel) are not supported');
    const parsed = claimsSchema.safeParse(claims);
    if (!parsed.success) {
      return fail('fit_invalid_claims', `The FIT claims are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const { app, context, principal, exp } = parsed.data;
    if (app.id !== options.appId) return fail('fit_wrong_audience', 'The FIT app.id is not this app');
    const bitbucket = app.installation?.contexts?.map((c) => bitbucketContext.safeParse(c)).find((c) => c.success)?.data;
    return {
      ok: true,
      invocation: {
        installationId: app.installationId,
        appVersion: app.version,
        environment: app.environment,
        apiBaseUrl: app.apiBaseUrl,
        bitbucket: bitbucket ? { apiBaseUrl: bitbucket.apiBaseUrl, workspaceId: bitbucket.workspaceId.replace(/^\{|\}$/g, '').toLowerCase() } : undefined,
        module: app.module,
        context,
        principal,
        exp,
      },
    };
  };
}
