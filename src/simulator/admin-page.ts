import { escapeHtml as e } from './resources.ts';
import { sourcePanels } from './host-page.ts';
import type { Simulator } from './simulator.ts';

/**
 * The workspace settings page that hosts an app's `adminPages` module (location
 * `org.bitbucket.account.admin`) in a signed iframe, like the repository and pull-request
 * pages host web panels. Path: `/{workspace}/workspace/settings/addon/{moduleKey}`.
 */

export const ADMIN_PAGE_LOCATION = 'org.bitbucket.account.admin';

interface AdminPageModule {
  key: string;
  name: { value: string };
  location: string;
  url: string;
}

function adminModules(descriptor: Record<string, unknown>): AdminPageModule[] {
  const modules = (descriptor.modules ?? {}) as { adminPages?: unknown };
  const pages = Array.isArray(modules.adminPages) ? (modules.adminPages as AdminPageModule[]) : [];
  return pages.filter((p) => p && typeof p.url === 'string' && typeof p.key === 'string' && p.location === ADMIN_PAGE_LOCATION);
}

export function adminPagePath(workspace: string, moduleKey: string): string {
  return `/${encodeURIComponent(workspace)}/workspace/settings/addon/${encodeURIComponent(moduleKey)}`;
}

/** Undefined when the workspace, the installation or the module does not exist (the caller answers 404). */
export async function renderAdminPage(sim: Simulator, workspace: string, moduleKey: string): Promise<string | undefined> {
  const inst = [...sim.site.installations.values()].find((i) => i.installed && i.principal.slug.toLowerCase() === workspace.toLowerCase());
  if (!inst) return undefined;
  const module = adminModules(await sim.getDescriptor()).find((m) => m.key === moduleKey);
  if (!module) return undefined;
  const context = {
    'workspace.slug': inst.principal.slug,
    'user.uuid': sim.user.uuid,
    'user.account_id': sim.user.account_id,
    'principal.uuid': inst.principal.uuid,
  };
  const src = sim.panelUrl(module.url, context, inst.clientKey);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(module.name.value)} · Workspace settings · Bitbucket simulator</title>
<link rel="stylesheet" href="/_sim/static/host.css"><script src="/_sim/static/host.js" defer></script></head>
<body><div class="topbar"><a class="logo" href="/">Bitbucket</a><span class="sim-tag">local simulator</span></div>
<main><nav class="crumbs"><a href="/">${e(inst.principal.name)}</a><span class="sep">/</span>Workspace settings</nav>
<h1>${e(module.name.value)}</h1>
<section class="card panel admin-page"><iframe class="ap-panel" src="${e(src)}" title="${e(module.name.value)}" data-client-key="${e(inst.clientKey)}" data-context="${e(JSON.stringify(context))}" sandbox="allow-scripts allow-same-origin allow-forms allow-popups"></iframe></section>
</main></body></html>`;
}

export function forgeSettingsPagePath(workspace: string): string {
  return `/${encodeURIComponent(workspace)}/workspace/settings/forge`;
}

/**
 * The workspace settings page of Forge apps (`bitbucket:workspaceSettingsMenuPage` modules,
 * hosted by the local Forge); undefined when no Forge app has a page in that workspace.
 */
export function renderForgeSettingsPage(sim: Simulator, workspace: string): string | undefined {
  const frames = sourcePanels(sim, 'workspaceSettings', { workspace });
  if (!frames) return undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Workspace settings · Bitbucket simulator</title>
<link rel="stylesheet" href="/_sim/static/host.css"><script src="/_sim/static/host.js" defer></script></head>
<body><div class="topbar"><a class="logo" href="/">Bitbucket</a><span class="sim-tag">local simulator</span></div>
<main><nav class="crumbs"><a href="/">${e(workspace)}</a><span class="sep">/</span>Workspace settings</nav>
<h1>Apps</h1><div class="admin-page">${frames}</div>
</main></body></html>`;
}
