import { WEB_PANEL_LOCATIONS } from './descriptor.ts';
import { fullName, short } from './model.ts';
import type { PullRequest, Repository } from './model.ts';
import { escapeHtml as e } from './resources.ts';
import { hasScope } from './site.ts';
import type { Simulator } from './simulator.ts';

/**
 * Server-rendered host pages: what a Bitbucket user would see of the app. Every dynamic value
 * goes through `e()`; no inline script or style (the CSP forbids both).
 */

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(title)} · Bitbucket simulator</title>
<link rel="stylesheet" href="/_sim/static/host.css"><script src="/_sim/static/host.js" defer></script></head>
<body><header><a href="/">Bitbucket simulator</a></header><main>${body}</main></body></html>`;
}

export function renderIndex(sim: Simulator): string {
  const installs = [...sim.site.installations.values()]
    .map((i) => `<tr><td>${e(i.principal.slug)}</td><td><code>${e(i.clientKey)}</code></td><td>${i.installed ? 'installed' : 'uninstalled'}</td><td>${e(i.installedOn)}</td></tr>`)
    .join('');
  const repos = [...sim.site.repositories.values()]
    .map((r) => {
      const prs = r.pullRequests.map((p) => `<li><a href="/${e(fullName(r))}/pull-requests/${p.id}">#${p.id} ${e(p.title)}</a> <span class="state">${e(p.state)}</span></li>`).join('');
      return `<li><a href="/${e(fullName(r))}">${e(fullName(r))}</a>${prs ? `<ul>${prs}</ul>` : ''}</li>`;
    })
    .join('');
  const deliveries = sim.deliveries
    .slice(-20)
    .reverse()
    .map((d) => `<tr><td>${e(d.event)}</td><td><code>${e(d.requestUuid)}</code></td><td>${d.attempts.map((a) => e(a.status === null ? (a.error ?? 'no answer') : String(a.status))).join(' → ')}</td></tr>`)
    .join('');
  const violations = sim.violations.map((v) => `<li><strong>${e(v.kind)}</strong> ${e(v.method)} <code>${e(v.url)}</code>: ${e(v.reason)}</li>`).join('');
  return layout(
    'Overview',
    `<h1>Bitbucket simulator</h1>
<p>App: <code>${e(sim.appBaseUrl)}</code> · web origin <code>${e(sim.webOrigin)}</code> · API origin <code>${e(sim.apiOrigin)}</code></p>
<h2>Installations</h2><table><thead><tr><th>Workspace</th><th>clientKey</th><th>State</th><th>Since</th></tr></thead><tbody>${installs || '<tr><td colspan="4">none</td></tr>'}</tbody></table>
<h2>Repositories</h2><ul>${repos || '<li>none</li>'}</ul>
<h2>Recent webhook deliveries</h2><table><thead><tr><th>Event</th><th>X-Request-UUID</th><th>Answers</th></tr></thead><tbody>${deliveries || '<tr><td colspan="3">none</td></tr>'}</tbody></table>
<h2>API violations</h2>${violations ? `<ul class="violations">${violations}</ul>` : '<p>None: every call the app made matched the Bitbucket API description.</p>'}`,
  );
}

export function renderRepositoryPage(sim: Simulator, name: string): Promise<string> | undefined {
  const repo = sim.site.repositories.get(name.toLowerCase());
  if (!repo) return undefined;
  return (async () => {
    const head = (await repo.git.branchHead(repo.mainBranch)) ?? '';
    const context = baseContext(sim, repo, { 'branch.name': repo.mainBranch, 'commit.hash': head });
    const prs = repo.pullRequests.map((p) => `<li><a href="/${e(fullName(repo))}/pull-requests/${p.id}">#${p.id} ${e(p.title)}</a> <span class="state">${e(p.state)}</span></li>`).join('');
    return layout(
      fullName(repo),
      `<h1>${e(fullName(repo))}</h1><p>Branch <code>${e(repo.mainBranch)}</code> at <code>${e(short(head))}</code></p>
<div class="columns"><section><h2>Pull requests</h2><ul>${prs || '<li>none</li>'}</ul>${insights(sim, repo, head)}</section>
<aside>${await panels(sim, repo, WEB_PANEL_LOCATIONS.repository, context)}</aside></div>`,
    );
  })();
}

export function renderPullRequestPage(sim: Simulator, name: string, id: number): Promise<string> | undefined {
  const repo = sim.site.repositories.get(name.toLowerCase());
  const pr = repo?.pullRequests.find((p) => p.id === id);
  if (!repo || !pr) return undefined;
  return (async () => {
    const context = baseContext(sim, repo, prContext(sim, pr));
    const comments = pr.comments
      .map((c) => `<article class="comment"><header>${e(c.user.display_name)} · ${e(c.updatedOn)}${c.inline ? ` · <code>${e(String(c.inline.path ?? ''))}</code>` : ''}</header><pre>${e(c.raw)}</pre></article>`)
      .join('');
    return layout(
      `#${pr.id} ${pr.title}`,
      `<h1>#${pr.id} ${e(pr.title)} <span class="state">${e(pr.state)}</span></h1>
<p><code>${e(pr.sourceBranch)}</code> (${e(short(pr.sourceHash))}) → <code>${e(pr.destinationBranch)}</code> (${e(short(pr.destinationHash))})</p>
<div class="columns"><section>${insights(sim, repo, pr.sourceHash)}<h2>Comments</h2>${comments || '<p>none</p>'}</section>
<aside>${await panels(sim, repo, WEB_PANEL_LOCATIONS.pullRequest, context)}</aside></div>`,
    );
  })();
}

/** Reports, annotations and build statuses the app posted on a commit. */
function insights(sim: Simulator, repo: Repository, commit: string): string {
  const reports = (repo.reports.get(commit) ?? [])
    .map((r) => {
      const data = Array.isArray(r.body.data)
        ? (r.body.data as Record<string, unknown>[]).map((d) => `<li>${e(String(d.title ?? ''))}: ${e(JSON.stringify(d.value ?? null))}</li>`).join('')
        : '';
      const annotations = r.annotations
        .map((a) => `<tr><td>${e(String(a.body.severity ?? ''))}</td><td>${e(String(a.body.annotation_type ?? ''))}</td><td><code>${e(String(a.body.path ?? ''))}${a.body.line ? `:${e(String(a.body.line))}` : ''}</code></td><td>${e(String(a.body.summary ?? ''))}</td></tr>`)
        .join('');
      return `<article class="report"><h3>${e(String(r.body.title ?? r.externalId))} <span class="result result-${e(String(r.body.result ?? 'PENDING'))}">${e(String(r.body.result ?? 'PENDING'))}</span></h3>
<p>${e(String(r.body.details ?? ''))}</p>${data ? `<ul>${data}</ul>` : ''}
${annotations ? `<table><thead><tr><th>Severity</th><th>Type</th><th>Where</th><th>Summary</th></tr></thead><tbody>${annotations}</tbody></table>` : '<p>No annotations.</p>'}</article>`;
    })
    .join('');
  const statuses = [...(repo.statuses.get(commit)?.values() ?? [])]
    .map((s) => `<li><span class="result result-${e(String(s.body.state))}">${e(String(s.body.state))}</span> ${e(String(s.body.name ?? s.key))} · ${e(String(s.body.description ?? ''))}</li>`)
    .join('');
  return `<h2>Code Insights on ${e(short(commit))}</h2>${reports || '<p>No reports.</p>'}<h2>Builds</h2><ul>${statuses || '<li>none</li>'}</ul>`;
}

function baseContext(sim: Simulator, repo: Repository, extra: Record<string, string>): Record<string, string> {
  const inst = [...sim.site.installations.values()].find((i) => i.installed && i.principal.uuid === repo.workspace.uuid);
  const repoVisible = hasScope(sim.site.grantedScopes, 'repository');
  return {
    ...(repoVisible ? { 'repository.uuid': repo.uuid, 'repository.full_name': fullName(repo) } : {}),
    'workspace.slug': repo.workspace.slug,
    'user.uuid': sim.user.uuid,
    'user.account_id': sim.user.account_id,
    'principal.uuid': inst?.principal.uuid ?? '',
    ...extra,
  };
}

/** Pull-request variables are only filled when the app holds the pullrequest scope. */
function prContext(sim: Simulator, pr: PullRequest): Record<string, string> {
  if (!hasScope(sim.site.grantedScopes, 'pullrequest')) return {};
  return {
    'pullrequest.id': String(pr.id),
    'pullrequest.state': pr.state,
    'pullrequest.source.commit.hash': short(pr.sourceHash),
    'pullrequest.source.branch.name': pr.sourceBranch,
    'pullrequest.destination.branch.name': pr.destinationBranch,
  };
}

async function panels(sim: Simulator, repo: Repository, location: string, context: Record<string, string>): Promise<string> {
  const inst = [...sim.site.installations.values()].find((i) => i.installed && i.principal.uuid === repo.workspace.uuid);
  if (!inst) return '<p>The app is not installed in this workspace.</p>';
  const descriptor = await sim.getDescriptor();
  const matching = (descriptor.modules.webPanels ?? []).filter((p) => p.location === location);
  if (matching.length === 0) return '<p>The app declares no panel here.</p>';
  return matching
    .map((p) => {
      const src = sim.panelUrl(p.url, context, inst.clientKey);
      const contextJson = JSON.stringify(context);
      return `<section class="panel"><h2>${e(p.name.value)}</h2><iframe class="ap-panel" src="${e(src)}" title="${e(p.name.value)}" data-client-key="${e(inst.clientKey)}" data-context="${e(contextJson)}" sandbox="allow-scripts allow-same-origin allow-forms allow-popups"></iframe></section>`;
    })
    .join('');
}
