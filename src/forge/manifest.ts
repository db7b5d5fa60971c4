import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { FORGE_BITBUCKET_EVENTS } from './events.ts';
import { FORGE_PATHS } from './router.ts';

/**
 * The Forge app's manifest.yml, rendered from configuration (`gatehouse forge manifest`):
 * Forge hosts the manifest, the Custom UI resources and the triggers; this server is the one
 * remote every endpoint points at (`baseUrl` = BASE_URL).
 */

export const FORGE_DIR = path.resolve(import.meta.dirname, '../../forge');
export const REMOTE_KEY = 'gatehouse';

/** Forge's lifecycle events the app listens to (there is no uninstalled event: preUninstall). */
export const FORGE_LIFECYCLE_EVENTS = ['avi:forge:installed:app', 'avi:forge:upgraded:app'] as const;

/**
 * The least scopes the features need, each justified in the README's Forge scope table. The
 * granular scopes follow the `x-atlassian-oauth2-scopes` the Bitbucket OpenAPI names for every
 * operation the app calls; `write:pullrequest:bitbucket` as for Connect (comments).
 */
export const FORGE_SCOPES = ['read:repository:bitbucket', 'read:pullrequest:bitbucket', 'write:pullrequest:bitbucket', 'read:workspace:bitbucket', 'read:app-system-token'] as const;

/** The Custom UI module that shows each resource forge-ui builds in forge/static/<key>. */
const UI_MODULES: Record<string, string> = {
  'pull-request-panel': 'bitbucket:repoPullRequestOverviewPanel',
  'repository-panel': 'bitbucket:repoCodeOverviewPanel',
  settings: 'bitbucket:workspaceSettingsMenuPage',
};

interface UiResource {
  key: string;
  /** Relative to forge/, where manifest.yml lives. */
  path: string;
  title: string;
}

export function uiResources(forgeDir = FORGE_DIR): UiResource[] {
  return JSON.parse(readFileSync(path.join(forgeDir, 'resources.json'), 'utf8')) as UiResource[];
}

export interface ManifestInput {
  /** FORGE_APP_ID. */
  appId: string;
  /** BASE_URL: the remote's baseUrl. */
  baseUrl: string;
  resources: UiResource[];
}

const systemToken = { appSystemToken: { enabled: true } };

export function renderManifest(input: ManifestInput): string {
  const endpoint = (key: string, routePath: string, auth: object = systemToken) => ({ key, remote: REMOTE_KEY, route: { path: routePath }, auth });
  const uiModules: Record<string, object[]> = {};
  for (const resource of input.resources) {
    const type = UI_MODULES[resource.key];
    if (!type) throw new Error(`forge/resources.json names resource ${resource.key}, which no Custom UI module shows`);
    (uiModules[type] ??= []).push({ key: `gatehouse-${resource.key}`, resource: resource.key, resolver: { endpoint: 'ui' }, title: resource.title });
  }
  const manifest = {
    app: { id: input.appId, runtime: { name: 'nodejs22.x' } },
    remotes: [{ key: REMOTE_KEY, baseUrl: input.baseUrl, operations: ['compute'] }],
    permissions: { scopes: [...FORGE_SCOPES] },
    modules: {
      endpoint: [
        endpoint('events', FORGE_PATHS.events),
        endpoint('lifecycle', FORGE_PATHS.lifecycle),
        endpoint('scheduled', FORGE_PATHS.scheduled),
        endpoint('uninstall', FORGE_PATHS.uninstall),
        // Custom UI calls name their own path (invokeRemote); the user token checks permissions.
        { key: 'ui', remote: REMOTE_KEY, auth: { appSystemToken: { enabled: true }, appUserToken: { enabled: true } } },
      ],
      trigger: [
        { key: 'bitbucket-events', endpoint: 'events', events: [...FORGE_BITBUCKET_EVENTS] },
        { key: 'app-lifecycle', endpoint: 'lifecycle', events: [...FORGE_LIFECYCLE_EVENTS] },
      ],
      // Hourly: every call brings a fresh system token (valid >= 2 h), so background jobs always have one.
      scheduledTrigger: [{ key: 'token-refresh', endpoint: 'scheduled', interval: 'hour' }],
      preUninstall: [{ key: 'pre-uninstall', endpoint: 'uninstall' }],
      ...uiModules,
    },
    resources: input.resources.map((r) => ({ key: r.key, path: r.path })),
  };
  return `# Rendered by \`npx gatehouse forge manifest\` from FORGE_APP_ID and BASE_URL; do not edit by hand.\n${stringify(manifest, { lineWidth: 0 })}`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/**
 * What Atlassian's validator does not check (../shared/BITBUCKET.md): event names it does not
 * know, a remote that is not https (loopback http is allowed for the local Forge), and trigger
 * endpoints whose route this server does not serve. One line per problem.
 */
export function manifestProblems(yamlText: string): string[] {
  const doc: unknown = parse(yamlText);
  if (!isObj(doc)) return ['the manifest is not a YAML mapping'];
  const problems: string[] = [];
  for (const remote of listOf(doc.remotes)) {
    let url: URL | undefined;
    try {
      url = new URL(String(remote.baseUrl));
    } catch {
      problems.push(`remote ${String(remote.key)}: baseUrl is not a URL`);
    }
    if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) problems.push(`remote ${String(remote.key)}: baseUrl must be https (got ${url.href})`);
  }
  const modules = isObj(doc.modules) ? doc.modules : {};
  const routes = new Map(listOf(modules.endpoint).map((e) => [String(e.key), isObj(e.route) ? String(e.route.path) : undefined]));
  const served = new Set<string>(Object.values(FORGE_PATHS));
  const known = new Set<string>([...FORGE_BITBUCKET_EVENTS, ...FORGE_LIFECYCLE_EVENTS]);
  const endpointServed = (where: string, key: unknown) => {
    const route = routes.get(String(key));
    if (route === undefined) problems.push(`${where}: endpoint ${String(key)} has no route`);
    else if (!served.has(route)) problems.push(`${where}: route ${route} is not one this server answers (${[...served].join(', ')})`);
  };
  for (const trigger of listOf(modules.trigger)) {
    for (const event of Array.isArray(trigger.events) ? trigger.events : []) {
      if (!known.has(String(event))) problems.push(`trigger ${String(trigger.key)}: unknown event ${String(event)}`);
    }
    endpointServed(`trigger ${String(trigger.key)}`, trigger.endpoint);
  }
  for (const t of [...listOf(modules.scheduledTrigger), ...listOf(modules.preUninstall)]) endpointServed(String(t.key), t.endpoint);
  return problems;
}
