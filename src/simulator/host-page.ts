import { WEB_PANEL_LOCATIONS } from './descriptor.ts';
import { renderMarkdown } from './markdown.ts';
import { fullName, short } from './model.ts';
import type { Account, Annotation, BuildStatus, PullRequest, Report, Repository } from './model.ts';
import { escapeHtml as e } from './resources.ts';
import { hasScope } from './site.ts';
import type { PanelLocation, Simulator } from './simulator.ts';

/**
 * Server-rendered host pages: what a Bitbucket user would see of the app, laid out like
 * Bitbucket Cloud's pull request page (description, Code Insights reports with their
 * annotations, activity on the left; builds, reports and the app's panels on the right).
 * Every dynamic value goes through `e()` or the Markdown renderer; no inline script or style
 * (the CSP forbids both).
 */

function layout(title: string, crumbs: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(title)} · Bitbucket simulator</title>
<link rel="stylesheet" href="/_sim/static/host.css"><script src="/_sim/static/host.js" defer></script></head>
<body><div class="topbar"><a class="logo" href="/">Bitbucket</a><span class="sim-tag">local simulator</span></div>
<main>${crumbs ? `<nav class="crumbs">${crumbs}</nav>` : ''}${body}</main></body></html>`;
}

function crumbsFor(repo: Repository, tail?: string): string {
  const parts = [`<a href="/">${e(repo.workspace.name)}</a>`, `<a href="/${e(fullName(repo))}">${e(repo.slug)}</a>`];
  if (tail) parts.push(e(tail));
  return parts.join('<span class="sep">/</span>');
}

function lozenge(value: string): string {
  return `<span class="lozenge lozenge-${e(value.toLowerCase())}">${e(value)}</span>`;
}

function avatar(account: Account): string {
  const initials = account.display_name.split(/\s+/).map((w) => w[0] ?? '').join('').slice(0, 2).toUpperCase();
  return `<span class="avatar" aria-hidden="true">${e(initials)}</span>`;
}

export function renderIndex(sim: Simulator): string {
  const installs = [...sim.site.installations.values()]
    .map((i) => `<tr><td>${e(i.principal.slug)}</td><td><code>${e(i.clientKey)}</code></td><td>${lozenge(i.installed ? 'INSTALLED' : 'UNINSTALLED')}</td><td>${e(i.installedOn)}</td></tr>`)
    .join('');
  const repos = [...sim.site.repositories.values()]
    .map((r) => {
      const prs = r.pullRequests.map((p) => `<li><a href="/${e(fullName(r))}/pull-requests/${p.id}">#${p.id} ${e(p.title)}</a> ${lozenge(p.state)}</li>`).join('');
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
    '',
    `<h1>Bitbucket simulator</h1>
<p class="muted">App <code>${e(sim.appBaseUrl)}</code> · web origin <code>${e(sim.webOrigin)}</code> · API origin <code>${e(sim.apiOrigin)}</code></p>
<div class="card"><h2>Installations</h2><table><thead><tr><th>Workspace</th><th>clientKey</th><th>State</th><th>Since</th></tr></thead><tbody>${installs || '<tr><td colspan="4">none</td></tr>'}</tbody></table></div>
<div class="card"><h2>Repositories</h2><ul>${repos || '<li>none</li>'}</ul></div>
<div class="card"><h2>Recent webhook deliveries</h2><table><thead><tr><th>Event</th><th>X-Request-UUID</th><th>Answers</th></tr></thead><tbody>${deliveries || '<tr><td colspan="3">none</td></tr>'}</tbody></table></div>
<div class="card"><h2>API violations</h2>${violations ? `<ul class="violations">${violations}</ul>` : '<p>None: every call the app made matched the Bitbucket API description.</p>'}</div>`,
  );
}

export function renderRepositoryPage(sim: Simulator, name: string): Promise<string> | undefined {
  const repo = sim.site.repositories.get(name.toLowerCase());
  if (!repo) return undefined;
  return (async () => {
    const head = (await repo.git.branchHead(repo.mainBranch)) ?? '';
    const context = baseContext(sim, repo, { 'branch.name': repo.mainBranch, 'commit.hash': head });
    const prs = repo.pullRequests
      .map((p) => `<li><a href="/${e(fullName(repo))}/pull-requests/${p.id}">#${p.id} ${e(p.title)}</a> ${lozenge(p.state)} <span class="muted">${e(p.sourceBranch)} → ${e(p.destinationBranch)}</span></li>`)
      .join('');
    return layout(
      fullName(repo),
      crumbsFor(repo),
      `<h1>${e(repo.slug)}</h1><p class="muted">Branch <code class="branch">${e(repo.mainBranch)}</code> at <code>${e(short(head))}</code></p>
<div class="columns"><section><div class="card"><h2>Pull requests</h2><ul>${prs || '<li>none</li>'}</ul></div>${reportCards(repo, head)}</section>
<aside>${sidebar(repo, head)}${await panels(sim, repo, WEB_PANEL_LOCATIONS.repository, context, { location: 'repository' })}</aside></div>`,
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
      .map(
        (c) => `<article class="comment">${avatar(c.user)}<div class="comment-body"><div class="comment-meta"><strong>${e(c.user.display_name)}</strong> <span class="muted">${e(c.updatedOn)}</span>${c.inline ? ` · <code>${e(String(c.inline.path ?? ''))}</code>` : ''}</div>
<div class="markdown">${renderMarkdown(c.raw)}</div></div></article>`,
      )
      .join('');
    // Reports and builds are those of the source commit in the source repository (a fork's, for a PR from a fork).
    return layout(
      `#${pr.id} ${pr.title}`,
      crumbsFor(repo, 'Pull requests'),
      `<h1>${e(pr.title)} ${lozenge(pr.state)}</h1>
<p class="branches">${avatar(pr.author)} <strong>${e(pr.author.display_name)}</strong> wants to merge <code class="branch">${e(pr.sourceBranch)}</code> <span class="muted">${e(short(pr.sourceHash))}</span> into <code class="branch">${e(pr.destinationBranch)}</code> <span class="muted">${e(short(pr.destinationHash))}</span> · #${pr.id}</p>
<div class="columns"><section>
<div class="card"><h2>Description</h2>${pr.description ? `<div class="markdown">${renderMarkdown(pr.description)}</div>` : '<p class="muted">No description.</p>'}</div>
${reportCards(pr.sourceRepository ?? repo, pr.sourceHash)}
<div class="card"><h2>Activity</h2>${comments || '<p class="muted">No comments yet.</p>'}</div>
</section>
<aside>${sidebar(pr.sourceRepository ?? repo, pr.sourceHash)}${await panels(sim, repo, WEB_PANEL_LOCATIONS.pullRequest, context, { location: 'pullRequest', pullRequestId: pr.id })}</aside></div>`,
    );
  })();
}

/** Builds and a summary of the reports, as Bitbucket's right-hand column shows them. */
function sidebar(repo: Repository, commit: string): string {
  const statuses = [...(repo.statuses.get(commit)?.values() ?? [])];
  const reports = repo.reports.get(commit) ?? [];
  const failed = statuses.filter((s) => s.body.state === 'FAILED').length;
  const buildSummary = statuses.length === 0 ? '<p class="muted">No builds.</p>' : `<p>${failed > 0 ? lozenge('FAILED') : lozenge(String(statuses.at(-1)?.body.state ?? 'INPROGRESS'))} ${failed > 0 ? `${failed} of ${statuses.length} failed` : `${statuses.length} build${statuses.length === 1 ? '' : 's'}`}</p>`;
  return `<div class="card side"><h3>Builds</h3>${buildSummary}<ul class="plain">${statuses.map(buildLine).join('')}</ul></div>
<div class="card side"><h3>Reports</h3>${
    reports.length === 0
      ? '<p class="muted">No reports.</p>'
      : `<ul class="plain">${reports.map((r) => `<li>${lozenge(String(r.body.result ?? 'PENDING'))} <a href="#report-${e(r.externalId)}">${e(String(r.body.title ?? r.externalId))}</a> <span class="muted">${reportScope(r)} · ${r.annotations.length} annotation${r.annotations.length === 1 ? '' : 's'}</span></li>`).join('')}</ul>`
  }</div>`;
}

function buildLine(s: BuildStatus): string {
  const name = e(String(s.body.name ?? s.key));
  const url = typeof s.body.url === 'string' && /^https?:\/\//.test(s.body.url) ? s.body.url : undefined;
  return `<li>${lozenge(String(s.body.state))} ${url ? `<a href="${e(url)}">${name}</a>` : name}<div class="muted small">${e(String(s.body.description ?? ''))}</div></li>`;
}

/** What a report covers, from its LINK field's text when it has one (e.g. "Pull request #1"). */
function reportScope(r: Report): string {
  const link = dataFields(r).find((d) => d.type === 'LINK');
  const text = link && typeof link.value === 'object' && link.value !== null ? (link.value as { text?: unknown }).text : undefined;
  return typeof text === 'string' ? e(text) : e(r.externalId);
}

interface DataField {
  title?: unknown;
  type?: unknown;
  value?: unknown;
}

function dataFields(r: Report): DataField[] {
  return Array.isArray(r.body.data) ? (r.body.data as DataField[]) : [];
}

/** A report data value shown the way Bitbucket formats its types. */
function dataValue(d: DataField): string {
  const v = d.value;
  switch (d.type) {
    case 'LINK': {
      const link = (typeof v === 'object' && v !== null ? v : {}) as { text?: unknown; href?: unknown };
      const href = typeof link.href === 'string' && /^https?:\/\//.test(link.href) ? link.href : undefined;
      const text = e(String(link.text ?? link.href ?? ''));
      return href ? `<a href="${e(href)}">${text}</a>` : text;
    }
    case 'DURATION':
      return typeof v === 'number' ? e(v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`) : e(String(v));
    case 'PERCENTAGE':
      return e(`${String(v)}%`);
    case 'BOOLEAN':
      return v ? 'Yes' : 'No';
    case 'DATE':
      return typeof v === 'number' ? e(new Date(v).toISOString()) : e(String(v));
    default:
      return e(typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v ?? null));
  }
}

/** Reports with their data and annotations; the most recently updated failing one starts open. */
function reportCards(repo: Repository, commit: string): string {
  const reports = repo.reports.get(commit) ?? [];
  if (reports.length === 0) return `<div class="card"><h2>Code Insights</h2><p class="muted">No reports on ${e(short(commit))}.</p></div>`;
  const opened = [...reports].reverse().filter((r) => r.body.result === 'FAILED').sort((a, b) => b.updatedOn.localeCompare(a.updatedOn))[0];
  const cards = reports.map((r) => {
    const result = String(r.body.result ?? 'PENDING');
    const fields = dataFields(r)
      .map((d) => `<div class="field"><dt>${e(String(d.title ?? ''))}</dt><dd>${dataValue(d)}</dd></div>`)
      .join('');
    const annotations = r.annotations.map(annotationRow).join('');
    return `<details class="report" id="report-${e(r.externalId)}"${r === opened ? ' open' : ''}><summary>${lozenge(result)} <strong>${e(String(r.body.title ?? r.externalId))}</strong> <span class="muted">${reportScope(r)}${r.body.reporter ? ` · ${e(String(r.body.reporter))}` : ''} · ${r.annotations.length} annotation${r.annotations.length === 1 ? '' : 's'}</span></summary>
${r.body.details ? `<p class="details">${e(String(r.body.details))}</p>` : ''}${fields ? `<dl class="fields">${fields}</dl>` : ''}
${annotations ? `<table class="annotations"><thead><tr><th>Severity</th><th>Summary</th><th>Where</th><th>Result</th></tr></thead><tbody>${annotations}</tbody></table>` : '<p class="muted">No annotations.</p>'}</details>`;
  });
  return `<div class="card"><h2>Code Insights <span class="muted small">on ${e(short(commit))}</span></h2>${cards.join('')}</div>`;
}

function annotationRow(a: Annotation): string {
  const severity = String(a.body.severity ?? '');
  const link = typeof a.body.link === 'string' && /^https?:\/\//.test(a.body.link) ? a.body.link : undefined;
  const summary = e(String(a.body.summary ?? ''));
  return `<tr><td>${severity ? lozenge(severity) : ''}</td><td>${link ? `<a href="${e(link)}">${summary}</a>` : summary}${a.body.details ? `<div class="muted small">${e(String(a.body.details))}</div>` : ''}</td><td><code>${e(String(a.body.path ?? ''))}${a.body.line ? `:${e(String(a.body.line))}` : ''}</code></td><td>${a.body.result ? lozenge(String(a.body.result)) : ''}</td></tr>`;
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

/**
 * Frames of other front doors (the local Forge) at a place, in the same card as a Connect
 * panel. The sandbox grants what Forge documents for its Custom UI iframe that the bundles use
 * (scripts, same origin, forms, popups, downloads started by a click).
 */
export function sourcePanels(sim: Simulator, location: PanelLocation, place: { workspace: string; repository?: string; pullRequestId?: number }): string {
  return sim.panelSources
    .flatMap((source) => source.panels(location, place))
    .map((p) => `<section class="card side panel"><h3>${e(p.title)}</h3><iframe class="ap-panel forge-panel" src="${e(p.src)}" title="${e(p.title)}" sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-downloads"></iframe></section>`)
    .join('');
}

async function panels(sim: Simulator, repo: Repository, location: string, context: Record<string, string>, place: { location: PanelLocation; pullRequestId?: number }): Promise<string> {
  const others = sourcePanels(sim, place.location, { workspace: repo.workspace.slug, repository: fullName(repo), ...(place.pullRequestId !== undefined ? { pullRequestId: place.pullRequestId } : {}) });
  const inst = [...sim.site.installations.values()].find((i) => i.installed && i.principal.uuid === repo.workspace.uuid);
  if (!inst) return others || '<div class="card side"><p class="muted">The app is not installed in this workspace.</p></div>';
  const descriptor = await sim.getDescriptor();
  const matching = (descriptor.modules.webPanels ?? []).filter((p) => p.location === location);
  if (matching.length === 0) return others || '<div class="card side"><p class="muted">The app declares no panel here.</p></div>';
  return matching
    .map((p) => {
      const src = sim.panelUrl(p.url, context, inst.clientKey);
      const contextJson = JSON.stringify(context);
      return `<section class="card side panel"><h3>${e(p.name.value)}</h3><iframe class="ap-panel" src="${e(src)}" title="${e(p.name.value)}" data-client-key="${e(inst.clientKey)}" data-context="${e(contextJson)}" sandbox="allow-scripts allow-same-origin allow-forms allow-popups"></iframe></section>`;
    })
    .join('') + others;
}
