import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { ClientTuning } from '../codehost/cloud/clients.ts';
import { KeyedSerialQueue } from '../core/keyed-queue.ts';
import { decryptSecret, encryptSecret } from '../crypto.ts';
import { HttpError } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Installation, Store } from '../store/types.ts';
import { authOf, AuthRequirement, requireAuth } from './auth.ts';
import { proveSharedSecret } from './install-proof.ts';
import { extractToken, verifyConnectJwt } from './jwt.ts';
import { basePathOf } from './qsh.ts';

export const LIFECYCLE_PATHS = {
  installed: '/connect/lifecycle/installed',
  uninstalled: '/connect/lifecycle/uninstalled',
} as const;

/**
 * Every field of the lifecycle payloads is bounded: the install route is open to anyone (the
 * first install of a clientKey is unsigned), and what it stores must stay small. The maxima
 * leave room over what Bitbucket sends (a clientKey is about 90 characters, a UUID 38).
 */
const text = (max: number) => z.string().max(max, `at most ${max} characters`);
const url = z.url().max(512, 'at most 512 characters');

const principalSchema = z.looseObject({
  type: text(32).optional(),
  uuid: text(64).optional(),
  username: text(128).optional(),
  slug: text(128).optional(),
  display_name: text(255).optional(),
});

const installedBody = z.looseObject({
  key: text(64).min(1),
  clientKey: text(256).min(1),
  sharedSecret: text(512).min(16, 'expected a shared secret of at least 16 characters'),
  baseUrl: url,
  baseApiUrl: url,
  publicKey: text(4096).optional(),
  description: text(1024).optional(),
  serverVersion: text(64).optional(),
  pluginsVersion: text(64).optional(),
  productType: z.literal('bitbucket').optional(),
  eventType: z.literal('installed').optional(),
  principal: principalSchema.optional(),
});

const uninstalledBody = z.looseObject({
  clientKey: text(256).min(1),
  eventType: z.literal('uninstalled').optional(),
});

/**
 * Real lifecycle bodies are 2 to 4 KB (the principal and user come with their links); nothing
 * larger is read, whoever sends it.
 */
export const LIFECYCLE_BODY_LIMIT = 32 * 1024;

/** `field: problem; ...`, naming each field once; never a value (the body carries the secret). */
function describeIssues(error: z.ZodError): string {
  const byField = new Map<string, string>();
  for (const issue of error.issues) {
    const field = issue.path.join('.') || '(body)';
    if (!byField.has(field)) byField.set(field, issue.message);
  }
  return [...byField].map(([field, message]) => `${field}: ${message}`).join('; ');
}

export type InstallDecision =
  | { kind: 'new' }
  | { kind: 'replace'; previous: Installation }
  | { kind: 'reject'; code: string; message: string };

/**
 * The install state machine (BITBUCKET.md "Lifecycle", ACE's verify-installation):
 *
 *   unknown clientKey             -> accept, signed or not (the first install is unsigned),
 *                                     once Bitbucket confirms the body's secret (install-proof.ts)
 *   installed, JWT verifies with
 *     the STORED secret, iss = key -> replace the record (new secret, URLs, principal)
 *   installed, anything else       -> 401: unsigned, signed with the new secret from the
 *                                     body (anyone can do that), another tenant's secret...
 *   uninstalled                    -> accept as a fresh install, see below
 *
 * Uninstalled: Bitbucket signs the first install after an uninstall with the previous
 * secret, but uninstall destroyed it (an uninstalled tenant's secret must not outlive the
 * installation), so that signature cannot be checked and the JWT is ignored. This is the
 * same position as a never-seen clientKey, and no weaker: Bitbucket clientKeys are
 * derivable from the workspace UUID, which is why both must prove their new secret with
 * Bitbucket (the JWT bearer grant at the allow-listed baseUrl) before anything is stored. Refusing instead would
 * lock the workspace out for good. What the new installer must not get is the previous
 * installation's standing: the record is rebuilt from the body, `installedAt` restarts and
 * the results stored under the clientKey (policy, triage marks, scans, SBOMs) are forgotten
 * before the new record is written.
 */
export function decideInstall(
  existing: Installation | undefined,
  verification: { verified: boolean; iss?: string; code?: string; message?: string },
  clientKey: string,
): InstallDecision {
  if (!existing || existing.state === 'uninstalled') return { kind: 'new' };
  if (!verification.verified) {
    return {
      kind: 'reject',
      code: verification.code ?? 'jwt_missing',
      message: `This clientKey is already installed; a reinstall must be signed with its current shared secret (${verification.message ?? 'no JWT'})`,
    };
  }
  if (verification.iss !== clientKey) {
    return { kind: 'reject', code: 'jwt_issuer_mismatch', message: 'The JWT iss does not match the clientKey being installed' };
  }
  return { kind: 'replace', previous: existing };
}

function originAllowed(url: string, allowed: readonly string[]): boolean {
  const parsed = new URL(url);
  return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && allowed.includes(parsed.origin);
}

export interface LifecycleDeps {
  config: Pick<Config, 'appKey' | 'baseUrl' | 'encryptionKey' | 'bitbucketBaseUrls' | 'bitbucketApiUrls'>;
  store: Store;
  now: () => Date;
  logger: Logger;
  /** Absent when the app serves no results (then there is nothing to forget). */
  results?: Pick<ResultsStore, 'forgetTenant'>;
  /** Settings of the client that proves an unsigned install's secret (tests point its fetch at a fake Bitbucket). */
  clientTuning?: ClientTuning;
}

export function addLifecycleRoutes(router: Router, deps: LifecycleDeps): void {
  const { config, store, now, logger } = deps;
  const parseJson = express.json({ limit: LIFECYCLE_BODY_LIMIT, type: () => true });
  const json: RequestHandler = (req, res, next) =>
    parseJson(req, res, (err?: unknown) => {
      if ((err as { type?: unknown } | undefined)?.type === 'entity.too.large') {
        next(new HttpError(413, 'payload_too_large', `A lifecycle body is at most ${LIFECYCLE_BODY_LIMIT / 1024} KB`));
      } else next(err);
    });
  const basePath = basePathOf(config.baseUrl);
  // One lifecycle call per clientKey at a time: from reading the record to writing it, nothing
  // else may change it (two racing first installs would both be "new", and the later write
  // would silently replace the secret the earlier caller was told is installed).
  const perClientKey = new KeyedSerialQueue();

  router.post(LIFECYCLE_PATHS.installed, requireAuth(AuthRequirement.LifecycleInstall, deps), json, async (req, res) => {
    const parsed = installedBody.safeParse(req.body);
    if (!parsed.success) {
      throw new HttpError(400, 'invalid_install_payload', `The installed payload is invalid: ${describeIssues(parsed.error)}`);
    }
    const body = parsed.data;
    if (body.key !== config.appKey) {
      throw new HttpError(400, 'wrong_app_key', `This server is the Connect app "${config.appKey}", not "${body.key}"; check APP_KEY`);
    }
    // Errors that say what to do (DESIGN.md example 11): name the variable to change.
    if (!originAllowed(body.baseUrl, config.bitbucketBaseUrls)) {
      throw new HttpError(
        403,
        'base_url_not_allowed',
        `baseUrl ${new URL(body.baseUrl).origin} is not in BITBUCKET_BASE_URLS (${config.bitbucketBaseUrls.join(', ')}); add it there if this Bitbucket is genuine`,
      );
    }
    if (!originAllowed(body.baseApiUrl, config.bitbucketApiUrls)) {
      throw new HttpError(
        403,
        'api_url_not_allowed',
        `baseApiUrl ${new URL(body.baseApiUrl).origin} is not in BITBUCKET_API_URLS (${config.bitbucketApiUrls.join(', ')}); add it there if this Bitbucket API is genuine`,
      );
    }

    await perClientKey.run(body.clientKey, async () => {
      const existing = await store.getInstallation(body.clientKey);
      let verification: Parameters<typeof decideInstall>[1] = { verified: false };
      if (existing?.state === 'installed' && existing.encryptedSharedSecret !== null) {
        // Verify against the stored secret of the body's clientKey only: a token naming another
        // tenant (aud or iss) must not be able to pick which secret checks it.
        const storedSecret = decryptSecret(config.encryptionKey, existing.encryptedSharedSecret);
        const result = await verifyConnectJwt(
          extractToken(req.get('authorization'), null),
          { method: req.method, originalUrl: req.originalUrl, basePath },
          async (claimed) => (claimed === body.clientKey ? storedSecret : undefined),
          now(),
        );
        verification = result.ok ? { verified: true, iss: result.claims.iss } : { verified: false, code: result.reason, message: result.message };
      }
      const decision = decideInstall(existing, verification, body.clientKey);
      const log = logger.child({ clientKey: body.clientKey });
      if (decision.kind === 'reject') {
        log.warn({ code: decision.code }, 'install rejected');
        throw new HttpError(401, decision.code, decision.message);
      }

      if (decision.kind === 'new') {
        // Unsigned, or signed with a secret that no longer exists: nothing yet says this caller is
        // Bitbucket. Bitbucket must confirm it holds this secret for this clientKey.
        await proveSharedSecret(
          {
            appKey: config.appKey,
            clientKey: body.clientKey,
            sharedSecret: body.sharedSecret,
            baseUrl: new URL(body.baseUrl).origin,
            baseApiUrl: new URL(body.baseApiUrl).origin,
            allowedBaseOrigins: config.bitbucketBaseUrls,
            allowedApiOrigins: config.bitbucketApiUrls,
          },
          deps.clientTuning,
        ).catch((error: unknown) => {
          log.warn({ code: error instanceof HttpError ? error.code : 'error' }, 'install not proven with Bitbucket');
          throw error;
        });
      }

      if (existing?.state === 'uninstalled') {
        // Before the record: a crash in between must not leave the new installer reading the old data.
        await deps.results?.forgetTenant(body.clientKey);
      }
      const at = now().toISOString();
      await store.putInstallation({
        clientKey: body.clientKey,
        key: body.key,
        baseUrl: new URL(body.baseUrl).origin,
        baseApiUrl: new URL(body.baseApiUrl).origin,
        encryptedSharedSecret: encryptSecret(config.encryptionKey, body.sharedSecret),
        state: 'installed',
        ...(body.principal ? { principal: pickPrincipal(body.principal) } : {}),
        installedAt: decision.kind === 'replace' ? decision.previous.installedAt : at,
        updatedAt: at,
      });
      log.info({ reinstall: decision.kind === 'replace', previousState: existing?.state ?? null }, 'installed');
    });
    res.status(204).end();
  });

  router.post(LIFECYCLE_PATHS.uninstalled, requireAuth(AuthRequirement.SignedRequest, deps), json, async (req, res) => {
    const auth = authOf(res);
    const parsed = uninstalledBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_uninstall_payload', `The uninstalled payload is invalid: ${describeIssues(parsed.error)}`);
    if (parsed.data.clientKey !== auth.clientKey || auth.claims.iss !== auth.clientKey) {
      throw new HttpError(401, 'jwt_issuer_mismatch', 'The JWT was not issued for the clientKey being uninstalled');
    }
    await perClientKey.run(auth.clientKey, async () => {
      // The JWT was checked against the record as it was before this call waited its turn.
      const current = await store.getInstallation(auth.clientKey);
      if (current?.state !== 'installed' || current.encryptedSharedSecret !== auth.installation.encryptedSharedSecret) {
        throw new HttpError(401, 'jwt_invalid_signature', 'The installation changed while this uninstall waited; it was signed with a secret that is no longer current');
      }
      await store.putInstallation({ ...current, encryptedSharedSecret: null, state: 'uninstalled', updatedAt: now().toISOString() });
    });
    logger.child({ clientKey: auth.clientKey }).info('uninstalled; shared secret destroyed');
    res.status(204).end();
  });
}

function pickPrincipal(p: z.infer<typeof principalSchema>): NonNullable<Installation['principal']> {
  const { type, uuid, username, display_name, slug } = p;
  return Object.fromEntries(Object.entries({ type, uuid, username, display_name, slug }).filter(([, v]) => v !== undefined));
}
