import path from 'node:path';
import { parse } from 'yaml';

/**
 * What the local Forge reads from an app's manifest.yml, as Forge does on `forge deploy`:
 * where each endpoint sends its calls and with which tokens, which trigger listens to which
 * events, the scheduled triggers, preUninstall, the Custom UI modules with their resource
 * directories and resolver endpoint, and the granular scopes the tokens will hold. A manifest
 * that lacks what it points at is refused with the reason, so a bad render fails the demo
 * and the tests loudly instead of silently dropping deliveries.
 */

export interface ForgeEndpoint {
  key: string;
  /** The remote's baseUrl: invokeRemote paths are appended to it. */
  baseUrl: string;
  /** baseUrl + route.path: where triggers deliver. */
  url: string;
  systemToken: boolean;
  userToken: boolean;
}

export interface ForgeTrigger {
  key: string;
  endpoint: ForgeEndpoint;
  events: string[];
}

export interface ForgeScheduledTrigger {
  key: string;
  endpoint: ForgeEndpoint;
  interval: string;
}

export interface ForgeUiModule {
  /** `bitbucket:repoPullRequestOverviewPanel`, ... */
  type: string;
  key: string;
  title: string;
  resourceKey: string;
  /** Absolute directory of the resource (its index.html and files). */
  resourceDir: string;
  resolver: ForgeEndpoint;
}

export interface LocalForgeManifest {
  appId: string;
  scopes: Set<string>;
  triggers: ForgeTrigger[];
  scheduledTriggers: ForgeScheduledTrigger[];
  preUninstall: { key: string; endpoint: ForgeEndpoint }[];
  uiModules: ForgeUiModule[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown, where: string): Obj[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObj)) throw new ManifestError(`${where} must be a list of objects`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new ManifestError(`${where} must be a non-empty string`);
  return value;
}

const UI_MODULE_TYPES = ['bitbucket:repoPullRequestOverviewPanel', 'bitbucket:repoCodeOverviewPanel', 'bitbucket:workspaceSettingsMenuPage', 'bitbucket:repoSettingsMenuPage'];

/** Reads manifest YAML; `manifestDir` is where resource paths start (the app directory). */
export function readManifest(yamlText: string, manifestDir: string): LocalForgeManifest {
  const doc: unknown = parse(yamlText);
  if (!isObj(doc)) throw new ManifestError('the manifest is not a YAML mapping');
  const app = isObj(doc.app) ? doc.app : {};
  const appId = text(app.id, 'app.id');
  const modules = isObj(doc.modules) ? doc.modules : {};

  const remotes = new Map(list(doc.remotes, 'remotes').map((r) => [text(r.key, 'remotes[].key'), r]));
  const endpoints = new Map<string, ForgeEndpoint>();
  for (const e of list(modules.endpoint, 'modules.endpoint')) {
    const key = text(e.key, 'modules.endpoint[].key');
    const remote = remotes.get(text(e.remote, `endpoint ${key}: remote`));
    if (!remote) throw new ManifestError(`endpoint ${key} names remote ${String(e.remote)}, which remotes does not declare`);
    const baseUrl = text(remote.baseUrl, `remote ${String(remote.key)}: baseUrl`).replace(/\/+$/, '');
    const route = isObj(e.route) && typeof e.route.path === 'string' ? e.route.path : '';
    // Token settings sit on the endpoint in current manifests; older ones put them on the remote.
    const auth = isObj(e.auth) ? e.auth : isObj(remote.auth) ? remote.auth : {};
    const enabled = (name: string) => isObj(auth[name]) && (auth[name] as Obj).enabled === true;
    endpoints.set(key, { key, baseUrl, url: `${baseUrl}${route}`, systemToken: enabled('appSystemToken'), userToken: enabled('appUserToken') });
  }
  const endpoint = (key: unknown, where: string): ForgeEndpoint => {
    const found = endpoints.get(text(key, `${where}: endpoint`));
    if (!found) throw new ManifestError(`${where} names endpoint ${String(key)}, which modules.endpoint does not declare`);
    return found;
  };

  const resources = new Map(list(doc.resources, 'resources').map((r) => [text(r.key, 'resources[].key'), path.resolve(manifestDir, text(r.path, `resource ${String(r.key)}: path`))]));
  const uiModules: ForgeUiModule[] = [];
  for (const type of UI_MODULE_TYPES) {
    for (const m of list(modules[type], `modules.${type}`)) {
      const key = text(m.key, `${type}[].key`);
      const resourceKey = text(m.resource, `${type} ${key}: resource`);
      const resourceDir = resources.get(resourceKey);
      if (!resourceDir) throw new ManifestError(`${type} ${key} names resource ${resourceKey}, which resources does not declare`);
      const resolver = isObj(m.resolver) ? m.resolver : {};
      uiModules.push({ type, key, title: typeof m.title === 'string' ? m.title : key, resourceKey, resourceDir, resolver: endpoint(resolver.endpoint, `${type} ${key}: resolver`) });
    }
  }

  const permissions = isObj(doc.permissions) ? doc.permissions : {};
  return {
    appId,
    scopes: new Set(Array.isArray(permissions.scopes) ? permissions.scopes.filter((s): s is string => typeof s === 'string') : []),
    triggers: list(modules.trigger, 'modules.trigger').map((t) => {
      const key = text(t.key, 'trigger[].key');
      const events = Array.isArray(t.events) ? t.events.filter((e): e is string => typeof e === 'string') : [];
      return { key, endpoint: endpoint(t.endpoint, `trigger ${key}`), events };
    }),
    scheduledTriggers: list(modules.scheduledTrigger, 'modules.scheduledTrigger').map((t) => {
      const key = text(t.key, 'scheduledTrigger[].key');
      return { key, endpoint: endpoint(t.endpoint, `scheduledTrigger ${key}`), interval: text(t.interval, `scheduledTrigger ${key}: interval`) };
    }),
    preUninstall: list(modules.preUninstall, 'modules.preUninstall').map((p) => {
      const key = text(p.key, 'preUninstall[].key');
      return { key, endpoint: endpoint(p.endpoint, `preUninstall ${key}`) };
    }),
    uiModules,
  };
}
