import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';

/**
 * The token side of a local Forge: the RSA keys Forge signs Forge Invocation Tokens (FIT) with,
 * published as a JWKS, and the app system and user tokens Forge hands the remote in
 * `x-forge-oauth-system` / `x-forge-oauth-user`.
 *
 * Real Forge facts this follows (../../../../shared/BITBUCKET.md, Forge section): a FIT is RS256
 * with a `kid`, `iss` = `forge/invocation-token`, `aud` = the app ARI, lives about 25 s, and
 * carries `app.{id, version, installationId, apiBaseUrl, environment, module, installation.contexts}`,
 * plus `context` and `principal` on UI calls. System tokens live 2-4 h (at least 2 h when a
 * scheduled trigger delivers one); the remote reads their `exp` but cannot verify them. Here they
 * are HS256 JWTs under a secret only this authority knows, so the simulated Bitbucket API can
 * check them and answer 401 once one has expired or its installation was uninstalled.
 */

export const FIT_ISSUER = 'forge/invocation-token';
/** Lifetime of the FIT in Atlassian's documented example. */
export const FIT_TTL_SECONDS = 25;
/** Forge promises at least 2 h on a delivered system token and gives at most about 4 h. */
export const SYSTEM_TOKEN_TTL_SECONDS = 3 * 3600;
export const USER_TOKEN_TTL_SECONDS = 3600;
const OAUTH_TOKEN_ISSUER = 'local-forge/oauth';

export type ForgeEnvironmentType = 'DEVELOPMENT' | 'STAGING' | 'PRODUCTION';

/** One installation of the app, as the FIT describes it. */
export interface ForgeInstallationIdentity {
  /** `ari:cloud:ecosystem::installation/<uuid>`; new on every reinstall. */
  installationId: string;
  /** Workspace UUID without braces, as in `installation.contexts[].workspaceId`. */
  workspaceId: string;
  /** Origin the app calls Bitbucket at (`https://api.bitbucket.org` in production). */
  apiBaseUrl: string;
}

export interface FitInput extends ForgeInstallationIdentity {
  /** Major version of the deployed app, a string as Forge sends it. */
  appVersion?: string;
  environmentType?: ForgeEnvironmentType;
  /** `app.module`: which manifest module the call is for (a trigger or a UI module). */
  module?: { type: string; key: string };
  /** UI calls only: `{workspaceId: "{uuid}", moduleKey, extension: {...}}`. */
  context?: Record<string, unknown>;
  /** UI calls only: the account id of the user. */
  principal?: string;
  /** Isolated Cloud label; absent unless a test wants a FIT the remote must refuse. */
  icLabel?: string;
  /** Claims laid over the generated ones last, for tests of hostile tokens; `undefined` removes one. */
  overrides?: Record<string, unknown>;
  ttlSeconds?: number;
}

export interface Jwk extends JsonWebKey {
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Jwk;
}

export interface OAuthTokenClaims {
  kind: 'system' | 'user';
  installationId: string;
  workspaceId: string;
  /** The user a user token acts for. */
  accountId?: string;
  exp: number;
  /** Issue order, for expireSystemTokens. */
  seq?: number;
}

export type OAuthTokenCheck =
  | { ok: true; claims: OAuthTokenClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'revoked' };

export interface IssuedToken {
  token: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface ForgeTokenAuthorityOptions {
  /** The app ARI, `ari:cloud:ecosystem::app/<uuid>`: the FIT's `aud` and `app.id`. */
  appId: string;
  now?: () => Date;
}

function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `forge/${randomUUID()}`;
  const exported = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, publicJwk: { kty: exported.kty, n: exported.n, e: exported.e, kid, alg: 'RS256', use: 'sig' } };
}

/** A fresh app ARI, as `forge register` creates one. */
export function newAppId(): string {
  return `ari:cloud:ecosystem::app/${randomUUID()}`;
}

/** A fresh installation ARI: Forge makes a new one on every install, including a reinstall. */
export function newInstallationId(): string {
  return `ari:cloud:ecosystem::installation/${randomUUID()}`;
}

export interface UiContextInput {
  /** Workspace UUID without braces; the UI context carries it with braces. */
  workspaceId: string;
  moduleKey: string;
  /** Repository UUID without braces (repository and pull-request panels). */
  repositoryUuid?: string;
  pullRequestId?: number;
}

/**
 * The FIT `context` of a Custom UI call in Bitbucket: `workspaceId` in braces, the module key,
 * and the page's repository / pull request in `extension`.
 */
export function uiContext(input: UiContextInput): Record<string, unknown> {
  const extension: Record<string, unknown> = {};
  if (input.repositoryUuid) extension.repository = { uuid: `{${input.repositoryUuid}}` };
  if (input.pullRequestId !== undefined) extension.pullRequest = { id: input.pullRequestId };
  return { workspaceId: `{${input.workspaceId}}`, moduleKey: input.moduleKey, extension };
}

export class ForgeTokenAuthority {
  readonly appId: string;
  private readonly now: () => Date;
  /** The key new FITs are signed with. */
  private current: SigningKey;
  /** Keys rotated out but still published, so a rotation does not break FITs in flight. */
  private retired: SigningKey[] = [];
  private readonly oauthSecret = randomBytes(32);
  private readonly revoked = new Set<string>();
  /** Per installation: system tokens numbered up to this one answer as expired. */
  private readonly expiredUpTo = new Map<string, number>();
  private issued = 0;

  constructor(options: ForgeTokenAuthorityOptions) {
    this.appId = options.appId;
    this.now = options.now ?? (() => new Date());
    this.current = newSigningKey();
  }

  private nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  /** The document served at the JWKS URL. */
  jwks(): { keys: Jwk[] } {
    return { keys: [this.current, ...this.retired].map((k) => ({ ...k.publicJwk })) };
  }

  get currentKid(): string {
    return this.current.kid;
  }

  /**
   * Starts signing with a new key. `keepOld` leaves the previous keys in the JWKS (Atlassian's
   * overlap during a rotation); without it they disappear at once.
   */
  rotateKey(keepOld = true): string {
    this.retired = keepOld ? [this.current, ...this.retired] : [];
    this.current = newSigningKey();
    return this.current.kid;
  }

  /** A FIT as Forge puts it on every request to the remote (`Authorization: Bearer <fit>`). */
  signFit(input: FitInput): string {
    const iat = this.nowSeconds();
    const bitbucketContext = { name: 'bitbucket', apiBaseUrl: input.apiBaseUrl, workspaceId: input.workspaceId };
    const environmentType = input.environmentType ?? 'DEVELOPMENT';
    const appUuid = this.appId.slice(this.appId.lastIndexOf('/') + 1);
    const claims: Record<string, unknown> = {
      app: {
        id: this.appId,
        version: input.appVersion ?? '1',
        installationId: input.installationId,
        apiBaseUrl: input.apiBaseUrl,
        environment: { type: environmentType, id: `ari:cloud:ecosystem::environment/${appUuid}/${environmentType.toLowerCase()}` },
        ...(input.module ? { module: input.module } : {}),
        installation: { id: input.installationId, contexts: [bitbucketContext] },
      },
      ...(input.context ? { context: input.context } : {}),
      ...(input.principal ? { principal: input.principal } : {}),
      ...(input.icLabel ? { icLabel: input.icLabel } : {}),
      aud: this.appId,
      iss: FIT_ISSUER,
      iat,
      nbf: iat,
      exp: iat + (input.ttlSeconds ?? FIT_TTL_SECONDS),
      jti: randomBytes(20).toString('hex'),
      ...input.overrides,
    };
    // An override of `undefined` removes the claim (a FIT without exp, say).
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return jsonwebtoken.sign(claims, this.current.privateKey, { algorithm: 'RS256', keyid: this.current.kid });
  }

  /** The app system token: acts as the app in the installation's workspace. */
  systemToken(installation: ForgeInstallationIdentity, ttlSeconds = SYSTEM_TOKEN_TTL_SECONDS): IssuedToken {
    return this.oauthToken({ kind: 'system', installationId: installation.installationId, workspaceId: installation.workspaceId }, ttlSeconds);
  }

  /** The user token sent with a UI call: acts as `accountId`, with that user's permissions. */
  userToken(installation: ForgeInstallationIdentity, accountId: string, ttlSeconds = USER_TOKEN_TTL_SECONDS): IssuedToken {
    return this.oauthToken({ kind: 'user', installationId: installation.installationId, workspaceId: installation.workspaceId, accountId }, ttlSeconds);
  }

  /** Uninstall: every token of the installation stops working, expired or not. */
  revokeInstallation(installationId: string): void {
    this.revoked.add(installationId);
  }

  /**
   * Every system token of the installation handed out so far answers as expired from now on,
   * whatever its `exp`: what Bitbucket does when a token outlives its time by Bitbucket's
   * clock while the remote still thinks it valid. Tokens handed out later work.
   */
  expireSystemTokens(installationId: string): void {
    this.expiredUpTo.set(installationId, this.issued);
  }

  /** What the simulated Bitbucket API asks of a `Bearer` token before answering. */
  checkOAuthToken(token: string): OAuthTokenCheck {
    let claims: OAuthTokenClaims;
    try {
      claims = jsonwebtoken.verify(token, this.oauthSecret, {
        algorithms: ['HS256'],
        issuer: OAUTH_TOKEN_ISSUER,
        clockTimestamp: this.nowSeconds(),
      }) as OAuthTokenClaims;
    } catch (error) {
      if (error instanceof jsonwebtoken.TokenExpiredError) return { ok: false, reason: 'expired' };
      if (error instanceof jsonwebtoken.JsonWebTokenError && /signature/.test(error.message)) return { ok: false, reason: 'bad-signature' };
      return { ok: false, reason: 'malformed' };
    }
    if (this.revoked.has(claims.installationId)) return { ok: false, reason: 'revoked' };
    const expiredUpTo = this.expiredUpTo.get(claims.installationId);
    if (claims.kind === 'system' && expiredUpTo !== undefined && (claims.seq ?? 0) <= expiredUpTo) return { ok: false, reason: 'expired' };
    const { kind, installationId, workspaceId, accountId, exp } = claims;
    return { ok: true, claims: { kind, installationId, workspaceId, ...(accountId ? { accountId } : {}), exp } };
  }

  private oauthToken(claims: Omit<OAuthTokenClaims, 'exp'>, ttlSeconds: number): IssuedToken {
    const iat = this.nowSeconds();
    const exp = iat + ttlSeconds;
    const token = jsonwebtoken.sign({ ...claims, iat, exp, jti: randomUUID(), seq: ++this.issued }, this.oauthSecret, { algorithm: 'HS256', issuer: OAUTH_TOKEN_ISSUER });
    return { token, expiresAt: exp };
  }
}
