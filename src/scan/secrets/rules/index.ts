// Every built-in secret rule, by category. The engine runs them all; rules.test.ts checks
// each one against its own examples and against adversarial input.
import type { SecretRule } from '../rule.ts';
import { CLOUD_RULES } from './cloud.ts';
import { MESSAGING_RULES } from './messaging.ts';
import { SOURCE_HOSTING_RULES } from './source-hosting.ts';

/** Rule groups in reporting order; the category name is for humans (docs, `--list-rules`). */
export const RULE_CATEGORIES: Readonly<Record<string, readonly SecretRule[]>> = {
  cloud: CLOUD_RULES,
  'source-hosting': SOURCE_HOSTING_RULES,
  messaging: MESSAGING_RULES,
};

export const RULES: readonly SecretRule[] = Object.values(RULE_CATEGORIES).flat();
