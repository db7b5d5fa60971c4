import { formatTime, lozengeClass } from '../../src/ui/format.ts';
import type { FindingView, Lozenge } from '../../src/ui/view-models/findings.ts';
import { h, linkOrCode } from './dom.ts';

/** One finding as the Connect panel shows it (views/ui/partials/finding.eta). */

export function lozenge(lz: Lozenge): HTMLElement {
  return h('span', { class: lozengeClass(lz) }, lz.text);
}

const SEP = () => h('span', { class: 'gh-meta__sep', 'aria-hidden': 'true' }, '·');

export interface FindingActions {
  /** Set when the user may triage: the button that opens the form or undoes a mark. */
  triage?: (finding: FindingView, button: HTMLButtonElement) => void;
  untriage?: (finding: FindingView, button: HTMLButtonElement) => void;
}

export function findingItem(f: FindingView, actions: FindingActions): HTMLElement {
  const where = `${f.path}${f.line > 0 ? `:${f.line}` : ''}`;
  const item = h(
    'li',
    { class: `gh-finding${f.triage ? ' gh-finding--triaged' : ''}`, id: f.domId, 'data-fingerprint': f.fingerprint },
    h(
      'div',
      { class: 'gh-finding__head' },
      lozenge(f.lozenge),
      ' ',
      h('span', { class: 'gh-finding__title' }, f.title),
      ' ',
      h('span', { class: 'gh-finding__kind' }, f.kind === 'secret' ? 'Secret' : 'Vulnerable package'),
      f.newAdvisory && [
        ' ',
        h(
          'span',
          { class: 'gh-lozenge gh-lozenge--new gh-lozenge--bold', title: `Appeared when the vulnerability database changed${f.newAdvisory.since ? `, ${formatTime(f.newAdvisory.since)}` : ''}, not through a push` },
          'New advisory',
        ),
      ],
      f.triage && [' ', h('span', { class: 'gh-lozenge gh-lozenge--new' }, f.triage.label)],
    ),
    h(
      'p',
      { class: 'gh-finding__where' },
      f.sourceHref ? linkOrCode(f.sourceHref, where) : h('code', {}, f.path),
      f.preview && [SEP(), ' ', h('code', { class: 'gh-secret', 'aria-label': 'masked secret' }, f.preview)],
      f.kind === 'secret' && [SEP(), ' ', h('span', { class: 'gh-subtle' }, 'rule ', h('code', {}, f.ruleId))],
    ),
    f.advisory &&
      h(
        'p',
        { class: 'gh-finding__advisory' },
        linkOrCode(f.advisory.href, f.advisory.id),
        ' ',
        f.advisory.summary,
        ' ',
        f.advisory.fixedVersion
          ? h('span', { class: 'gh-fix' }, 'Fixed in ', h('strong', {}, f.advisory.fixedVersion))
          : h('span', { class: 'gh-subtle' }, 'No fixed version yet'),
      ),
    f.triage &&
      h(
        'p',
        { class: 'gh-triage' },
        `Marked ${f.triage.label.toLowerCase()} by ${f.triage.by} on `,
        h('time', { datetime: f.triage.at }, formatTime(f.triage.at)),
        ': ',
        h('q', {}, f.triage.reason),
      ),
  );
  const act = f.triage ? actions.untriage : actions.triage;
  if (act) {
    const button = h(
      'button',
      { type: 'button', class: 'gh-button gh-button--subtle', ...(f.triage ? {} : { 'aria-expanded': 'false' }) },
      f.triage ? `Undo ${f.triage.label.toLowerCase()}` : 'Triage',
    ) as HTMLButtonElement;
    button.addEventListener('click', () => act(f, button));
    item.appendChild(button);
  }
  return item;
}
