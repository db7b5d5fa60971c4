import { formatTime, lozengeClass } from '../../src/ui/format.ts';
import type { FindingView } from '../../src/ui/view-models/findings.ts';
import type { PullRequestPanelModel } from '../../src/ui/view-models/pull-request.ts';
import { h, plural } from './dom.ts';
import { findingItem, lozenge, type FindingActions } from './findings.ts';
import { announce, callRemote, clearError, errorMessage, onReady, show, showError } from './page.ts';

/**
 * The pull-request panel (bitbucket:repoPullRequestOverviewPanel): the same verdict, findings
 * and triage as the Connect panel (views/ui/pull-request-body.eta), from the JSON of
 * POST /forge/ui/pull-request. Forge's FIT names the pull request; the bodies below only say
 * what to do (`{}` reads; `{triage}` / `{untriage}` change a mark and answer the panel again).
 */

const ROUTE = '/forge/ui/pull-request';
const POLL_DELAYS_MS = [2000, 2000, 3000, 5000, 8000, 10000];
const POLL_LIMIT = 60;

type Action = { triage: { fingerprint: string; status: string; reason: string } } | { untriage: { fingerprint: string } } | Record<string, never>;

let polls = 0;
let pollTimer: ReturnType<typeof setTimeout> | undefined;

async function load(action: Action = {}): Promise<PullRequestPanelModel> {
  return callRemote<PullRequestPanelModel>(ROUTE, 'POST', action);
}

function verdictSection(m: PullRequestPanelModel): HTMLElement {
  const v = m.verdict;
  return h(
    'section',
    { class: `gh-verdict gh-verdict--${v.state}`, 'aria-labelledby': 'gh-verdict-title' },
    h('div', { class: 'gh-verdict__head' }, h('span', { class: lozengeClass(v.lozenge) }, v.lozenge.text), ' ', h('h2', { id: 'gh-verdict-title', class: 'gh-verdict__title' }, v.title)),
    h('p', { class: 'gh-verdict__reason' }, v.reason),
    v.staleNote && h('p', { class: 'gh-note' }, v.staleNote),
    h(
      'p',
      { class: 'gh-meta' },
      m.commitShort && ['Commit ', h('code', {}, m.commitShort)],
      m.sourceBranch &&
        m.destinationBranch && [
          h('span', { class: 'gh-meta__sep', 'aria-hidden': 'true' }, '·'),
          ' ',
          h('span', { class: 'gh-branch' }, m.sourceBranch),
          ' ',
          h('span', { 'aria-label': 'into' }, '→'),
          ' ',
          h('span', { class: 'gh-branch' }, m.destinationBranch),
        ],
      m.scannedAt && [h('span', { class: 'gh-meta__sep', 'aria-hidden': 'true' }, '·'), ' Scanned ', h('time', { datetime: m.scannedAt }, formatTime(m.scannedAt))],
    ),
    v.state === 'scanning' && h('div', { class: 'gh-progress', 'aria-hidden': 'true' }, h('span')),
  );
}

function findingsSections(m: PullRequestPanelModel, actions: FindingActions): HTMLElement[] {
  if (m.verdict.state !== 'passed' && m.verdict.state !== 'failed') return [];
  const sections: HTMLElement[] = [
    h(
      'section',
      { class: 'gh-section', 'aria-labelledby': 'gh-new-title' },
      h('h2', { id: 'gh-new-title', class: 'gh-section__title' }, 'New findings ', h('span', { class: 'gh-count' }, m.newCount)),
      m.newCount === 0 && h('p', { class: 'gh-empty' }, 'This pull request introduces no secrets and no vulnerable packages.'),
      m.newGroups.map((g) =>
        h(
          'section',
          { class: 'gh-group', 'aria-labelledby': `gh-group-${g.severity}` },
          h('h3', { id: `gh-group-${g.severity}`, class: 'gh-group__title' }, lozenge(g.lozenge), ' ', h('span', { class: 'gh-subtle' }, plural(g.findings.length, 'finding'))),
          h('ul', { class: 'gh-findings' }, g.findings.map((f) => findingItem(f, actions))),
        ),
      ),
    ),
  ];
  if (m.existing.length > 0) {
    sections.push(
      h(
        'details',
        { class: 'gh-section gh-existing' },
        h(
          'summary',
          { class: 'gh-section__title' },
          'Existing findings ',
          h('span', { class: 'gh-count' }, m.existing.length),
          h('span', { class: 'gh-summary-note' }, `Already on ${m.destinationBranch || 'the destination branch'}; they do not fail this pull request.`),
        ),
        h('ul', { class: 'gh-findings' }, m.existing.map((f) => findingItem(f, actions))),
      ),
    );
  }
  const notes = [...m.skipped, ...m.notices];
  if (notes.length > 0) {
    sections.push(
      h(
        'details',
        { class: 'gh-section gh-notices' },
        h('summary', { class: 'gh-section__title' }, 'Scan notes ', h('span', { class: 'gh-count' }, notes.length)),
        h('ul', { class: 'gh-list' }, notes.map((n) => h('li', {}, n))),
      ),
    );
  }
  return sections;
}

let formCount = 0;

/** The triage form, opened under the finding's button (one at a time per finding). */
function openTriage(finding: FindingView, button: HTMLButtonElement): void {
  const open = button.nextElementSibling;
  if (open?.classList.contains('gh-triage-form')) {
    closeTriage(open as HTMLFormElement);
    return;
  }
  formCount++;
  const reasonId = `gh-triage-reason-${formCount}`;
  const reason = h('textarea', { class: 'gh-textarea', id: reasonId, name: 'reason', rows: 2, maxlength: 1000, required: true }) as HTMLTextAreaElement;
  const cancel = h('button', { type: 'button', class: 'gh-button gh-button--subtle' }, 'Cancel');
  const form = h(
    'form',
    { class: 'gh-triage-form' },
    h(
      'fieldset',
      { class: 'gh-fieldset' },
      h('legend', {}, 'Mark this finding as'),
      h('label', { class: 'gh-radio' }, h('input', { type: 'radio', name: 'status', value: 'ignored', required: true }), ' Ignored ', h('span', { class: 'gh-subtle' }, '(a real finding, accepted)')),
      h('label', { class: 'gh-radio' }, h('input', { type: 'radio', name: 'status', value: 'false_positive' }), ' False positive ', h('span', { class: 'gh-subtle' }, '(not a real secret, or not affected)')),
    ),
    h('label', { class: 'gh-label', for: reasonId }, 'Reason ', h('span', { class: 'gh-subtle' }, '(required, shown in the audit list)')),
    reason,
    h('div', { class: 'gh-actions' }, cancel, h('button', { type: 'submit', class: 'gh-button gh-button--primary' }, 'Save')),
  ) as HTMLFormElement;
  cancel.addEventListener('click', () => closeTriage(form));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeTriage(form);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    const status = (form.querySelector('input[name="status"]:checked') as HTMLInputElement | null)?.value ?? '';
    void act({ triage: { fingerprint: finding.fingerprint, status, reason: reason.value } }, form.querySelector('[type="submit"]'), finding.fingerprint);
  });
  button.after(form);
  button.setAttribute('aria-expanded', 'true');
  (form.querySelector('input[type="radio"]') as HTMLInputElement).focus();
}

function closeTriage(form: HTMLFormElement): void {
  const button = form.previousElementSibling as HTMLElement | null;
  form.remove();
  button?.setAttribute('aria-expanded', 'false');
  button?.focus();
}

async function act(action: Action, busy: Element | null, fingerprint: string): Promise<void> {
  if (busy?.getAttribute('aria-busy') === 'true') return;
  busy?.setAttribute('aria-busy', 'true');
  clearError();
  try {
    const model = await load(action);
    render(model);
    announce(announcement(action));
    const again = document.querySelector<HTMLElement>(`[data-fingerprint="${CSS.escape(fingerprint)}"]`);
    again?.setAttribute('tabindex', '-1');
    again?.focus();
  } catch (error) {
    busy?.removeAttribute('aria-busy');
    showError(errorMessage(error));
  }
}

/** The Connect panel's words (src/ui/routes.ts), so both front doors sound the same. */
function announcement(action: Action): string {
  if ('untriage' in action) return 'Triage mark removed.';
  if ('triage' in action) return action.triage.status === 'false_positive' ? 'Marked as false positive.' : 'Marked as ignored.';
  return '';
}

const actions: FindingActions = {
  triage: openTriage,
  untriage: (finding, button) => void act({ untriage: { fingerprint: finding.fingerprint } }, button, finding.fingerprint),
};

function render(m: PullRequestPanelModel): void {
  show(
    h(
      'div',
      { class: 'gh-panel', 'data-gh-state': m.verdict.state },
      h('h1', { id: 'gh-title', class: 'gh-visually-hidden' }, `Gatehouse security check for pull request #${m.prId}`),
      verdictSection(m),
      findingsSections(m, m.canTriage ? actions : {}),
    ),
  );
  schedulePoll(m);
}

/** While the commit is being scanned, ask again with growing pauses (as the Connect panel does). */
function schedulePoll(m: PullRequestPanelModel): void {
  clearTimeout(pollTimer);
  if (!m.polling || polls >= POLL_LIMIT) return;
  const delay = POLL_DELAYS_MS[Math.min(polls, POLL_DELAYS_MS.length - 1)];
  polls++;
  pollTimer = setTimeout(() => {
    load()
      .then((next) => {
        render(next);
        if (!next.polling) announce(`Scan finished: ${next.verdict.title}`);
      })
      .catch((error: unknown) => showError(errorMessage(error)));
  }, delay);
}

onReady(() => {
  load()
    .then(render)
    .catch((error: unknown) => showError(errorMessage(error)));
});
