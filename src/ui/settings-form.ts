import { z } from 'zod';
import { policyPatchSchema, type PolicyPatch } from '../core/policy.ts';
import type { SettingsForm } from './view-models/settings.ts';

/**
 * The settings form to a policy patch, using the same schema as the JSON API so every front
 * door accepts exactly the same settings: as the Connect page posts it
 * (application/x-www-form-urlencoded, `readSettingsForm`) or as the Forge page sends it (JSON,
 * `settingsFormJson`), then one check (`checkSettingsForm`). A refusal keeps what was typed,
 * with one message per field.
 */

export type SettingsParse = { ok: true; patch: PolicyPatch; form: SettingsForm } | { ok: false; form: SettingsForm; errors: Record<string, string> };

const MAX_FIELD_CHARS = 20_000;

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value.slice(0, MAX_FIELD_CHARS) : '';
}

function lines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Field names the form uses, keyed by the policy field a schema issue points at. */
const FIELD_OF: Record<string, keyof SettingsForm> = {
  threshold: 'threshold',
  scanners: 'secrets',
  ignoredPaths: 'ignoredPaths',
  environments: 'environments',
};

/** The form as a browser posts it: a checkbox is `on` when checked and absent otherwise. */
export function readSettingsForm(body: Record<string, unknown>): SettingsForm {
  return {
    threshold: text(body, 'threshold'),
    secrets: text(body, 'secrets') === 'on',
    dependencies: text(body, 'dependencies') === 'on',
    ignoredPaths: text(body, 'ignoredPaths'),
    environments: text(body, 'environments'),
  };
}

/** The form as JSON (the Forge settings page): the same fields, checkboxes as booleans. */
export const settingsFormJson = z.object({
  threshold: z.string().max(64),
  secrets: z.boolean(),
  dependencies: z.boolean(),
  ignoredPaths: z.string().max(MAX_FIELD_CHARS),
  environments: z.string().max(MAX_FIELD_CHARS),
});

export function parseSettingsForm(body: Record<string, unknown>): SettingsParse {
  return checkSettingsForm(readSettingsForm(body));
}

export function checkSettingsForm(form: SettingsForm): SettingsParse {
  const errors: Record<string, string> = {};
  const environments: { branch: string; environment: string }[] = [];
  for (const [i, line] of lines(form.environments).entries()) {
    // Git forbids ':' in branch names, so the first one separates branch from environment.
    const colon = line.indexOf(':');
    if (colon <= 0) {
      errors.environments ??= `Line ${i + 1}: write "branch: environment", e.g. "main: production".`;
      continue;
    }
    environments.push({ branch: line.slice(0, colon).trim(), environment: line.slice(colon + 1).trim() });
  }
  const parsed = policyPatchSchema.safeParse({
    threshold: form.threshold,
    scanners: { secrets: form.secrets, dependencies: form.dependencies },
    ignoredPaths: lines(form.ignoredPaths),
    environments,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [top, index, field] = issue.path;
      const name = FIELD_OF[String(top)] ?? 'threshold';
      const where = typeof index === 'number' ? `Line ${index + 1}${field ? ` (${String(field)})` : ''}: ` : '';
      errors[name] ??= `${where}${issue.message}`;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, form, errors };
  return { ok: true, patch: parsed.data, form };
}
