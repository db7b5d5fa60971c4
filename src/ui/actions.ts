import { z } from 'zod';
import { applyPolicyPatch, DEFAULT_POLICY } from '../core/policy.ts';
import type { Logger } from '../log.ts';
import type { UiDataSource } from './data-source.ts';
import { checkSettingsForm } from './settings-form.ts';
import type { SettingsForm, settingsModel } from './view-models/settings.ts';

/**
 * What the panels and the settings page change, whichever front door the request came through
 * (Connect's page session, Forge's Custom UI): one validation, one audit record and log line,
 * one effect. The front doors only authenticate, check the user's right with Bitbucket, and
 * answer in their own shape.
 */

export const fingerprintSchema = z.string().regex(/^[0-9A-Za-z:._-]{8,200}$/, 'a finding fingerprint');
export const triageFields = {
  fingerprint: fingerprintSchema,
  status: z.enum(['ignored', 'false_positive']),
  reason: z.string().trim().min(1, 'Say why').max(1000),
};
export const untriageFields = { fingerprint: fingerprintSchema };

export type TriageInput = z.infer<z.ZodObject<typeof triageFields>>;

/** What the live region says after each change (both front doors use the same words). */
export const TRIAGE_ANNOUNCE = { ignored: 'Marked as ignored.', false_positive: 'Marked as false positive.', cleared: 'Triage mark removed.' } as const;

export const TRIAGE_REFUSED = 'Only people with write access to this repository can triage its findings';
export const SETTINGS_REFUSED = 'Only workspace admins can change Gatehouse settings';

export interface ActionDeps {
  data: UiDataSource;
  logger: Logger;
  now: () => Date;
}

/** Marks a finding (the audit record is the mark itself: who, when, why). */
export async function markFinding(deps: ActionDeps, where: { clientKey: string; repoUuid: string }, by: string, input: TriageInput): Promise<string> {
  await deps.data.putTriage({ clientKey: where.clientKey, repoUuid: where.repoUuid, fingerprint: input.fingerprint, status: input.status, by, at: deps.now().toISOString(), reason: input.reason });
  deps.logger.info({ clientKey: where.clientKey, repoUuid: where.repoUuid, fingerprint: input.fingerprint, status: input.status }, 'finding triaged');
  return TRIAGE_ANNOUNCE[input.status];
}

export async function unmarkFinding(deps: ActionDeps, where: { clientKey: string; repoUuid: string }, fingerprint: string): Promise<string> {
  await deps.data.clearTriage(where.clientKey, where.repoUuid, fingerprint);
  deps.logger.info({ clientKey: where.clientKey, repoUuid: where.repoUuid, fingerprint }, 'triage mark removed');
  return TRIAGE_ANNOUNCE.cleared;
}

export type SettingsOutcome = NonNullable<Parameters<typeof settingsModel>[2]>;

/** Validates the settings form and saves the policy it describes; a refusal keeps what was typed. */
export async function saveSettings(deps: ActionDeps, clientKey: string, form: SettingsForm): Promise<{ ok: boolean; outcome: SettingsOutcome }> {
  const checked = checkSettingsForm(form);
  if (!checked.ok) return { ok: false, outcome: { form: checked.form, errors: checked.errors } };
  const policy = applyPolicyPatch((await deps.data.policy(clientKey)) ?? structuredClone(DEFAULT_POLICY), checked.patch);
  await deps.data.savePolicy(clientKey, policy);
  deps.logger.info({ clientKey, threshold: policy.threshold, scanners: policy.scanners }, 'policy saved from the settings page');
  return { ok: true, outcome: { saved: true } };
}
