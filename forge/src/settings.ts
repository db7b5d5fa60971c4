import { formatTime } from '../../src/ui/format.ts';
import type { ForgeSettingsModel, SettingsForm } from '../../src/ui/view-models/settings.ts';
import { h } from './dom.ts';
import { announce, callRemote, clearError, errorMessage, onReady, RemoteError, show, showError } from './page.ts';

/**
 * The workspace settings page (bitbucket:workspaceSettingsMenuPage): the policy form and the
 * triage audit of the Connect settings page (views/ui/settings-body.eta). GET
 * /forge/ui/settings reads; POST with the form's fields saves and answers the page again
 * (422 with `errors` per field when the remote refused the values).
 */

const ROUTE = '/forge/ui/settings';

function field(id: string, label: string, control: HTMLElement, help: Node[] | string, error: string | undefined): HTMLElement {
  const describedBy = `${id}-help${error ? ` ${id}-error` : ''}`;
  control.setAttribute('aria-describedby', describedBy);
  if (error) control.setAttribute('aria-invalid', 'true');
  return h(
    'div',
    { class: 'gh-field' },
    h('label', { class: 'gh-label', for: id }, label),
    control,
    h('p', { class: 'gh-help', id: `${id}-help` }, help),
    error && h('p', { class: 'gh-error', id: `${id}-error` }, error),
  );
}

function policyForm(m: ForgeSettingsModel): HTMLFormElement {
  const e = m.errors;
  const threshold = h(
    'select',
    { class: 'gh-select', id: 'gh-threshold', name: 'threshold' },
    m.thresholds.map((t) => h('option', { value: t.value, selected: t.selected }, `${t.label} or above`)),
  );
  const ignored = h('textarea', { class: 'gh-textarea gh-textarea--code', id: 'gh-ignored', name: 'ignoredPaths', rows: 4, spellcheck: 'false' }, m.form.ignoredPaths);
  const environments = h('textarea', { class: 'gh-textarea gh-textarea--code', id: 'gh-environments', name: 'environments', rows: 3, spellcheck: 'false' }, m.form.environments);
  const fields = h(
    'fieldset',
    { class: 'gh-section', disabled: !m.canEdit },
    h('legend', { id: 'gh-policy-title', class: 'gh-section__title' }, 'Policy'),
    field('gh-threshold', 'Fail a change on new findings of severity', threshold, 'Existing and triaged findings never fail a change.', e.threshold),
    h(
      'fieldset',
      { class: 'gh-field gh-fieldset', 'aria-describedby': 'gh-scanners-help' },
      h('legend', { class: 'gh-label' }, 'Scanners'),
      h('label', { class: 'gh-checkbox' }, h('input', { type: 'checkbox', name: 'secrets', id: 'gh-secrets', checked: m.form.secrets }), ' Secrets ', h('span', { class: 'gh-subtle' }, 'in added lines')),
      h('label', { class: 'gh-checkbox' }, h('input', { type: 'checkbox', name: 'dependencies', id: 'gh-dependencies', checked: m.form.dependencies }), ' Vulnerable dependencies ', h('span', { class: 'gh-subtle' }, 'in changed lockfiles and manifests')),
      h('p', { class: 'gh-help', id: 'gh-scanners-help' }, 'A scanner that is off reports nothing and fails nothing.'),
      e.secrets && h('p', { class: 'gh-error' }, e.secrets),
    ),
    field('gh-ignored', 'Ignored paths', ignored, [document.createTextNode('One glob per line, e.g. '), h('code', {}, 'test/fixtures/**'), document.createTextNode('. Matching files are never scanned.')], e.ignoredPaths),
    field(
      'gh-environments',
      'Branch to environment',
      environments,
      [document.createTextNode('One '), h('code', {}, 'branch: environment'), document.createTextNode(" per line; the branch may be a glob. The first match names the environment of a repository's SBOM.")],
      e.environments,
    ),
    m.canEdit && h('div', { class: 'gh-actions gh-actions--start' }, h('button', { type: 'submit', class: 'gh-button gh-button--primary' }, 'Save settings')),
  );
  const form = h('form', { class: 'gh-form', 'aria-labelledby': 'gh-policy-title', novalidate: true }, fields) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save(form);
  });
  return form;
}

function formValues(form: HTMLFormElement): SettingsForm {
  const data = new FormData(form);
  return {
    threshold: String(data.get('threshold') ?? ''),
    secrets: data.has('secrets'),
    dependencies: data.has('dependencies'),
    ignoredPaths: String(data.get('ignoredPaths') ?? ''),
    environments: String(data.get('environments') ?? ''),
  };
}

async function save(form: HTMLFormElement): Promise<void> {
  const button = form.querySelector('[type="submit"]');
  if (button?.getAttribute('aria-busy') === 'true') return;
  button?.setAttribute('aria-busy', 'true');
  clearError();
  try {
    const model = await callRemote<ForgeSettingsModel>(ROUTE, 'POST', formValues(form));
    render(model);
    if (model.saved) announce('Settings saved');
    document.querySelector<HTMLElement>('[role="alert"], [data-gh-announce]')?.focus();
  } catch (error) {
    // 422: the remote refused the values and answered the page again, a message per field.
    if (error instanceof RemoteError && error.status === 422 && isForgeSettingsModel(error.body)) {
      render(error.body);
      document.querySelector<HTMLElement>('[role="alert"]')?.focus();
      return;
    }
    button?.removeAttribute('aria-busy');
    showError(errorMessage(error));
  }
}

function isForgeSettingsModel(body: unknown): body is ForgeSettingsModel {
  return typeof body === 'object' && body !== null && 'form' in body && 'errors' in body;
}

function audit(m: ForgeSettingsModel): HTMLElement {
  return h(
    'section',
    { class: 'gh-section', 'aria-labelledby': 'gh-audit-title' },
    h('h2', { id: 'gh-audit-title', class: 'gh-section__title' }, 'Triage audit ', h('span', { class: 'gh-count' }, m.audit.length)),
    m.audit.length === 0
      ? h('p', { class: 'gh-empty' }, 'No finding has been marked as ignored or false positive yet.')
      : h(
          'div',
          { class: 'gh-table-wrap' },
          h(
            'table',
            { class: 'gh-table' },
            h('caption', { class: 'gh-visually-hidden' }, 'Triage decisions, newest first'),
            h('thead', {}, h('tr', {}, ['When', 'Decision', 'Reason', 'By', 'Repository', 'Finding'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              m.audit.map((a) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'gh-nowrap' }, h('time', { datetime: a.at }, formatTime(a.at))),
                  h('td', {}, h('span', { class: 'gh-lozenge gh-lozenge--new' }, a.status)),
                  h('td', {}, a.reason),
                  h('td', { class: 'gh-nowrap' }, a.by),
                  h('td', {}, a.repoUuid),
                  h('td', {}, h('code', { title: a.fingerprint }, a.fingerprint.slice(0, 12))),
                ),
              ),
            ),
          ),
        ),
  );
}

function render(m: ForgeSettingsModel): void {
  const errors = Object.keys(m.errors).length > 0;
  show(
    h(
      'div',
      { class: 'gh-settings' },
      h('h1', { id: 'gh-title', class: 'gh-heading' }, 'Gatehouse settings'),
      h('p', { class: 'gh-subtle' }, 'Policy for every repository in ', h('strong', {}, m.workspaceName), '.', m.isDefault && ' These are the defaults; nothing has been saved yet.'),
      m.tokenNotice && h('div', { class: 'gh-flag gh-flag--warning', role: 'note' }, h('strong', {}, 'Scans are paused.'), ` Gatehouse is ${m.tokenNotice}.`),
      !m.canEdit && h('div', { class: 'gh-flag gh-flag--info', role: 'note' }, h('strong', {}, 'Read only.'), ' Only workspace admins can change these settings.'),
      m.saved && h('div', { class: 'gh-flag gh-flag--success', role: 'status', tabindex: -1, 'data-gh-announce': 'Settings saved' }, 'Settings saved. They apply to the next scan.'),
      errors && h('div', { class: 'gh-flag gh-flag--error', role: 'alert', tabindex: -1 }, 'The settings were not saved. Correct the fields marked below.'),
      policyForm(m),
      audit(m),
    ),
  );
}

onReady(() => {
  callRemote<ForgeSettingsModel>(ROUTE, 'GET')
    .then(render)
    .catch((error: unknown) => showError(errorMessage(error)));
});
