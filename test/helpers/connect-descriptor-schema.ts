import { z } from 'zod';

/**
 * Bitbucket Cloud's Connect descriptor, as far as ../shared/BITBUCKET.md and Atlassian's
 * "access to context parameters" table describe it. Strict where Bitbucket fails an install
 * (unknown scopes, bad module keys, unknown locations or events), loose elsewhere.
 */

export const SCOPES = [
  'account', 'account:write', 'email', 'repository', 'repository:write', 'repository:admin', 'repository:delete',
  'project', 'project:admin', 'team', 'team:write', 'pullrequest', 'pullrequest:write', 'issue', 'issue:write',
  'snippet', 'snippet:write', 'webhook', 'wiki', 'pipeline', 'pipeline:write', 'pipeline:variable', 'runner',
  'runner:write', 'test', 'test:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Each webhook event and the scope Bitbucket requires to subscribe to it. */
export const EVENT_SCOPES: Record<string, Scope> = {
  'repo:push': 'repository',
  'repo:updated': 'repository',
  'repo:deleted': 'repository',
  'repo:created': 'repository',
  'repo:transfer': 'repository',
  'repo:commit_status_created': 'repository',
  'repo:commit_status_updated': 'repository',
  ...Object.fromEntries(
    [
      'created', 'updated', 'fulfilled', 'rejected', 'superseded', 'approved', 'unapproved', 'comment_created',
      'comment_deleted', 'changes_request_created', 'changes_request_removed',
    ].map((e) => [`pullrequest:${e}`, 'pullrequest' as const]),
  ),
  'issue:created': 'issue',
  'issue:updated': 'issue',
  'issue:comment_created': 'issue',
};

/** Context variable roots and the scope that must be granted for Bitbucket to fill them. */
export const CONTEXT_SCOPES: Record<string, Scope> = {
  user: 'account',
  target_user: 'account',
  workspace: 'account',
  principal: 'account',
  repository: 'repository',
  branch: 'repository',
  commit: 'repository',
  file: 'repository',
  directory: 'repository',
  pullrequest: 'pullrequest',
  snippet: 'snippet',
  issue: 'issue',
};

/** Scopes that grant others: a write scope includes its read scope, pullrequest includes repository. */
export const IMPLIED: Partial<Record<Scope, Scope[]>> = {
  'pullrequest:write': ['pullrequest', 'repository'],
  pullrequest: ['repository'],
  'repository:write': ['repository'],
  'repository:admin': ['repository'],
  'account:write': ['account'],
  'issue:write': ['issue'],
};

const moduleKey = z.string().regex(/^[a-zA-Z0-9-]+$/, 'module keys are letters, digits and dashes');
const relativeUrl = z.string().startsWith('/', 'module URLs are relative to baseUrl and start with /');
const i18n = z.object({ value: z.string().min(1) }).loose();

const webPanel = z
  .object({
    key: moduleKey,
    name: i18n,
    location: z.enum(['org.bitbucket.repository.overview.informationPanel', 'org.bitbucket.pullrequest.overview.informationPanel']),
    url: relativeUrl,
    weight: z.number().int().optional(),
    conditions: z.array(z.unknown()).optional(),
  })
  .strict();

const page = (location: string) =>
  z.object({ key: moduleKey, name: i18n, url: relativeUrl, location: z.literal(location), conditions: z.array(z.unknown()).optional() }).strict();

export const descriptorSchema = z
  .object({
    key: z.string().regex(/^[a-zA-Z0-9._-]+$/).max(64),
    name: z.string().min(1),
    description: z.string().optional(),
    vendor: z.object({ name: z.string().min(1), url: z.url().optional() }).strict(),
    baseUrl: z.url(),
    authentication: z.object({ type: z.literal('jwt') }).strict(),
    lifecycle: z
      .object({ installed: relativeUrl, uninstalled: relativeUrl, enabled: relativeUrl.optional(), disabled: relativeUrl.optional() })
      .strict(),
    scopes: z.array(z.enum(SCOPES)).min(1),
    contexts: z.tuple([z.literal('account')]),
    modules: z
      .object({
        webhooks: z.array(z.object({ event: z.enum(Object.keys(EVENT_SCOPES) as [string, ...string[]]), url: relativeUrl }).strict()).optional(),
        webPanels: z.array(webPanel).optional(),
        adminPages: z.array(page('org.bitbucket.account.admin')).optional(),
        repoPages: z.array(page('org.bitbucket.repository.navigation')).optional(),
        configurePage: z.object({ key: moduleKey, name: i18n, url: relativeUrl }).strict().optional(),
      })
      .strict(),
  })
  .strict();

export type ConnectDescriptor = z.infer<typeof descriptorSchema>;

export function grantedScopes(scopes: readonly Scope[]): Set<Scope> {
  const granted = new Set<Scope>(scopes);
  for (const s of scopes) for (const implied of IMPLIED[s] ?? []) granted.add(implied);
  return granted;
}
