// Every built-in secret rule, by category. The engine runs them all; rules.test.ts checks
// each one against its own examples and against adversarial input.
import type { SecretRule } from '../rule.ts';
import { AI_RULES } from './ai.ts';
import { CLOUD_RULES } from './cloud.ts';
import { DATABASE_RULES } from './databases.ts';
import { DEVOPS_RULES } from './devops.ts';
import { GENERIC_RULES } from './generic.ts';
import { KEY_RULES } from './keys.ts';
import { MESSAGING_RULES } from './messaging.ts';
import { OBSERVABILITY_RULES } from './observability.ts';
import { PAYMENT_RULES } from './payments.ts';
import { SAAS_RULES } from './saas.ts';
import { SOURCE_HOSTING_RULES } from './source-hosting.ts';

/**
 * Rule groups; the category name is for humans (docs, a rule listing). Order matters only
 * when two specific rules report the very same span: the engine keeps the earlier one, so
 * e.g. supabase-service-role-key (databases) wins over the plain jwt rule (keys).
 */
export const RULE_CATEGORIES: Readonly<Record<string, readonly SecretRule[]>> = {
  cloud: CLOUD_RULES,
  'source-hosting': SOURCE_HOSTING_RULES,
  messaging: MESSAGING_RULES,
  payments: PAYMENT_RULES,
  ai: AI_RULES,
  observability: OBSERVABILITY_RULES,
  databases: DATABASE_RULES,
  devops: DEVOPS_RULES,
  saas: SAAS_RULES,
  keys: KEY_RULES,
  generic: GENERIC_RULES,
};

export const RULES: readonly SecretRule[] = Object.values(RULE_CATEGORIES).flat();
