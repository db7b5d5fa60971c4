import { DEFAULT_POLICY } from '../../core/policy.ts';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../../scan/types.ts';
import type { Policy } from '../../store/results-types.ts';
import type { UiDataSource } from '../data-source.ts';
import { severityLozenge, TRIAGE_LABEL } from './findings.ts';

export interface SettingsContext {
  clientKey: string;
  workspaceName: string;
  canEdit: boolean;
}

export interface SettingsForm {
  threshold: string;
  secrets: boolean;
  dependencies: boolean;
  /** One glob per line, as typed. */
  ignoredPaths: string;
  /** `branch: environment` per line, as typed. */
  environments: string;
}

export interface SettingsModel {
  workspaceName: string;
  canEdit: boolean;
  isDefault: boolean;
  thresholds: { value: Severity; label: string; selected: boolean }[];
  form: SettingsForm;
  /** Field name to message, after a refused save. */
  errors: Record<string, string>;
  /** Set after a successful save, for the live region. */
  saved: boolean;
  audit: { repoUuid: string; fingerprint: string; status: string; reason: string; by: string; at: string }[];
}

/**
 * The Forge settings page's model: the Connect page's, plus what its background jobs wait
 * for. A Forge installation's scans need the app system token Forge last delivered; when it
 * has expired (or none came yet) they wait, and the page says so instead of looking healthy.
 */
export type ForgeSettingsModel = SettingsModel & { tokenNotice: string | null };

export const MAX_AUDIT_ROWS = 200;

export function formOf(policy: Policy): SettingsForm {
  return {
    threshold: policy.threshold,
    secrets: policy.scanners.secrets,
    dependencies: policy.scanners.dependencies,
    ignoredPaths: policy.ignoredPaths.join('\n'),
    environments: policy.environments.map((e) => `${e.branch}: ${e.environment}`).join('\n'),
  };
}

export async function settingsModel(
  data: UiDataSource,
  ctx: SettingsContext,
  outcome: { form?: SettingsForm; errors?: Record<string, string>; saved?: boolean } = {},
): Promise<SettingsModel> {
  const [stored, marks] = await Promise.all([data.policy(ctx.clientKey), data.triageMarks(ctx.clientKey)]);
  const form = outcome.form ?? formOf(stored ?? DEFAULT_POLICY);
  return {
    workspaceName: ctx.workspaceName,
    canEdit: ctx.canEdit,
    isDefault: stored === undefined,
    thresholds: [...SEVERITIES]
      .sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a])
      .map((value) => ({ value, label: severityLozenge(value).text, selected: value === form.threshold })),
    form,
    errors: outcome.errors ?? {},
    saved: outcome.saved ?? false,
    audit: marks
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
      .slice(0, MAX_AUDIT_ROWS)
      .map((m) => ({ repoUuid: m.repoUuid, fingerprint: m.fingerprint, status: TRIAGE_LABEL[m.status], reason: m.reason, by: m.by, at: m.at })),
  };
}
