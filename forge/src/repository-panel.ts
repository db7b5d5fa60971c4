import { formatTime, lozengeClass } from '../../src/ui/format.ts';
import type { FindingsPage, RepositoryPanelModel } from '../../src/ui/view-models/repository.ts';
import { h, type Child } from './dom.ts';
import { findingItem } from './findings.ts';
import { announce, callRemote, clearError, errorMessage, onReady, show, showError } from './page.ts';

const ROUTE = '/forge/ui/repository';

/**
 * The repository panel (bitbucket:repoCodeOverviewPanel): the main branch's open findings and
 * inventory and its SBOM, as the Connect panel shows them (views/ui/repository.eta), from
 * POST /forge/ui/repository (the FIT names the repository; `{sbom: true}` asks for the file,
 * `{findings: {offset}}` for the next page of findings).
 */

function state(title: string, text: Node[] | string, error = false): HTMLElement {
  return h(
    'section',
    { class: `gh-state${error ? ' gh-state--error' : ''}`, 'aria-labelledby': 'gh-state-title', ...(error ? { role: 'alert' } : {}) },
    h('h2', { id: 'gh-state-title', class: 'gh-state__title' }, title),
    h('p', { class: 'gh-state__text' }, text),
  );
}

function body(m: RepositoryPanelModel): Node[] {
  if (m.bitbucketUnavailable) return [state('Bitbucket did not answer', "Gatehouse could not look up this repository's main branch. Reload the page to try again.", true)];
  if (!m.mainBranch) return [state('Nothing to scan yet', 'This repository has no main branch yet. Gatehouse scans it after the first push.')];
  const branch = h('span', { class: 'gh-branch' }, m.mainBranch);
  if (!m.scanned) return [state('Not scanned yet', [document.createTextNode('Gatehouse builds the inventory of '), branch, document.createTextNode(' at the next push to it.')])];
  return [
    h(
      'section',
      { class: 'gh-section', 'aria-labelledby': 'gh-open-title' },
      h('h2', { id: 'gh-open-title', class: 'gh-section__title' }, 'Open findings on ', branch),
      h(
        'ul',
        { class: 'gh-severity-counts', 'aria-label': 'Open findings by severity' },
        m.severities.map((s) =>
          h('li', { class: `gh-severity-count${s.count === 0 ? ' gh-severity-count--zero' : ''}` }, h('span', { class: 'gh-severity-count__n' }, s.count), ' ', h('span', { class: lozengeClass(s.lozenge) }, s.lozenge.text)),
        ),
      ),
      m.openTotal === 0
        ? h('p', { class: 'gh-empty' }, 'No open findings.', m.triagedTotal > 0 && ` ${m.triagedTotal} triaged.`)
        : m.triagedTotal > 0 && h('p', { class: 'gh-subtle' }, `${m.triagedTotal} more triaged.`),
      m.findings.length > 0 && findingsList(m),
    ),
    h(
      'section',
      { class: 'gh-section', 'aria-labelledby': 'gh-inv-title' },
      h('h2', { id: 'gh-inv-title', class: 'gh-section__title' }, 'Inventory'),
      h(
        'dl',
        { class: 'gh-facts' },
        h('dt', {}, 'Components'),
        h('dd', {}, String(m.components), ' ', h('span', { class: 'gh-subtle' }, `from ${m.dependencyFiles} dependency ${m.dependencyFiles === 1 ? 'file' : 'files'}`)),
        h('dt', {}, 'Environment'),
        h('dd', {}, m.environment ? h('span', { class: 'gh-lozenge gh-lozenge--inprogress' }, m.environment) : h('span', { class: 'gh-subtle' }, 'none mapped')),
        h('dt', {}, 'Coverage'),
        h(
          'dd',
          {},
          m.coverage
            ? [h('span', { class: `gh-coverage gh-coverage--${m.coverage.status}` }, m.coverage.text), ' ', h('span', { class: 'gh-subtle' }, h('time', { datetime: m.coverage.at }, formatTime(m.coverage.at)))]
            : h('span', { class: 'gh-subtle' }, 'Not in a backfill yet; an admin starts one on the Gatehouse settings page.'),
        ),
        h('dt', {}, 'Last scan'),
        h('dd', {}, m.lastScan && h('time', { datetime: m.lastScan }, formatTime(m.lastScan)), ' ', h('span', { class: 'gh-subtle' }, 'at ', h('code', {}, m.commitShort ?? ''))),
      ),
      m.sbomAvailable && h('p', { class: 'gh-actions gh-actions--start' }, sbomButton()),
    ),
  ];
}

/** The worst findings, and a button that appends the next page (Connect's "show more"). */
function findingsList(m: RepositoryPanelModel): Child[] {
  const list = h('ol', { class: 'gh-findings', id: 'gh-open-list', 'aria-labelledby': 'gh-open-title' }, m.findings.map((f) => findingItem(f, {})));
  const kind = m.scanKind === 'branch' ? 'The whole branch was scanned.' : 'From the scan of the last push: what it changed.';
  const worst = m.moreTotal > 0 ? `, the ${m.findings.length} worst of ${m.openTotal}` : '';
  return [h('p', { class: 'gh-subtle' }, `${kind} Worst first${worst}.`), list, m.moreTotal > 0 && moreButton(list, m.findings.length, m.moreTotal, m.pageSize)];
}

function moreButton(list: HTMLElement, offset: number, remaining: number, pageSize: number): HTMLElement {
  const button = h('button', { type: 'button', class: 'gh-button gh-button--default' }, `Show ${Math.min(remaining, pageSize)} more of ${remaining} remaining`) as HTMLButtonElement;
  const wrap = h('p', { class: 'gh-actions gh-actions--start' }, button);
  button.addEventListener('click', () => {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    clearError();
    callRemote<FindingsPage>(ROUTE, 'POST', { findings: { offset } })
      .then((page) => {
        for (const f of page.findings) list.appendChild(findingItem(f, {}));
        wrap.replaceWith(...(page.remaining > 0 ? [moreButton(list, page.offset, page.remaining, page.pageSize)] : []));
        announce(`${page.findings.length} more findings shown`);
      })
      .catch((error: unknown) => {
        button.removeAttribute('aria-busy');
        showError(errorMessage(error));
      });
  });
  return wrap;
}

/**
 * The Connect panel's "Download SBOM": here the file comes through invokeRemote (a Custom UI
 * page has no link of its own to the remote) and is saved from the frame, which Forge's
 * iframe sandbox allows (allow-downloads) after a click.
 */
function sbomButton(): HTMLElement {
  const button = h('button', { type: 'button', class: 'gh-button gh-button--default' }, 'Download SBOM ', h('span', { class: 'gh-subtle' }, '(CycloneDX JSON)')) as HTMLButtonElement;
  button.addEventListener('click', () => {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    clearError();
    callRemote<{ sbom: { filename: string; content: string } }>(ROUTE, 'POST', { sbom: true })
      .then(({ sbom }) => {
        const url = URL.createObjectURL(new Blob([sbom.content], { type: 'application/json' }));
        const link = h('a', { href: url, download: sbom.filename, hidden: true });
        document.body.appendChild(link);
        link.click();
        link.remove();
        // The download has its own copy once started; the next tick frees ours.
        setTimeout(() => URL.revokeObjectURL(url), 0);
        announce('SBOM downloaded');
      })
      .catch((error: unknown) => showError(errorMessage(error)))
      .finally(() => button.removeAttribute('aria-busy'));
  });
  return button;
}

onReady(() => {
  callRemote<RepositoryPanelModel>(ROUTE, 'POST', {})
    .then((m) =>
      show(h('div', { class: 'gh-panel' }, h('h1', { id: 'gh-title', class: 'gh-visually-hidden' }, `Gatehouse security overview of ${m.repoFullName}`), body(m))),
    )
    .catch((error: unknown) => showError(errorMessage(error)));
});
