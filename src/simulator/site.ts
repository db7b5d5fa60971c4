import type { FaultInjector } from './faults.ts';
import type { Account, Installation, Repository } from './model.ts';
import type { OpenApiChecker } from './openapi.ts';
import type { Resources } from './resources.ts';

/** Shared state of one simulated Bitbucket site, read by both origins and the actions. */

export type ViolationKind = 'openapi' | 'bitbucket-rule' | 'unsimulated';

export interface Violation {
  kind: ViolationKind;
  method: string;
  url: string;
  reason: string;
  at: string;
}

export interface AccessToken {
  clientKey: string;
  expiresAt: number;
}

/**
 * What a bearer token that is not one of the site's own access tokens turned out to be: the
 * installation it acts for (and, for a user token, the user), or why it is refused (401).
 * The local Forge (forge/local-forge.ts) answers for the tokens it issued.
 */
export type BearerCheck = { installation: Installation; scopes: Set<string>; user?: Account } | { refused: string };
export type BearerVerifier = (token: string) => BearerCheck | undefined;

export interface Site {
  appKey: string;
  origins: { web: string; api: string };
  resources: Resources;
  checker: OpenApiChecker;
  faults: FaultInjector;
  installations: Map<string, Installation>;
  /**
   * The secret of an install whose lifecycle call is in flight, by clientKey: Bitbucket already
   * holds it, so the app can prove it with the JWT bearer grant before it answers the call.
   */
  pendingInstalls: Map<string, string>;
  /** Scopes the app's descriptor asked for; undefined means "all" (no `scopes` field). */
  grantedScopes: Set<string> | undefined;
  accessTokens: Map<string, AccessToken>;
  /** Asked in turn about a bearer token the site did not issue itself; `undefined` = not mine. */
  bearerVerifiers: BearerVerifier[];
  repositories: Map<string, Repository>;
  violations: Violation[];
  /** Every call the app made to the API origin, in arrival order (tests count publications). */
  apiCalls: { method: string; path: string }[];
  /** Requests git made to the smart HTTP endpoints (git-http.ts) that passed the token check. */
  gitRequests: number;
  now: () => Date;
  recordViolation(v: Omit<Violation, 'at'>): void;
}

export const VIOLATION_MARKER = '[bitbucket-sim VIOLATION]';

export function recordViolation(site: Pick<Site, 'violations' | 'now'>, v: Omit<Violation, 'at'>): void {
  const entry = { ...v, at: site.now().toISOString() };
  site.violations.push(entry);
  // Loud on purpose: a violation means the app sent something real Bitbucket would refuse.
  console.error(`${VIOLATION_MARKER} ${v.kind}: ${v.method} ${v.url}: ${v.reason}`);
}

/**
 * Scope implication as Bitbucket documents it: a :write scope implies its read scope,
 * repository:admin implies repository:write, and pullrequest implies repository
 * (pullrequest:write implies repository:write).
 */
export function hasScope(granted: Set<string> | undefined, needed: string): boolean {
  if (!granted) return true;
  const implied = new Set<string>();
  for (const scope of granted) {
    implied.add(scope);
    if (scope.endsWith(':write') || scope.endsWith(':admin')) implied.add(scope.replace(/:(write|admin)$/, ''));
    if (scope === 'repository:admin') implied.add('repository:write');
    if (scope === 'pullrequest' || scope === 'pullrequest:write') implied.add('repository');
    if (scope === 'pullrequest:write') implied.add('repository:write');
    if (scope === 'project:admin') implied.add('project');
  }
  return implied.has(needed);
}
