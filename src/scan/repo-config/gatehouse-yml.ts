import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../types.ts';
import { globMatcher } from './glob-matcher.ts';
import { zodProblems } from './problems.ts';
import { LinearRegex } from './linear-regex.ts';
import type { CustomRule } from './types.ts';

const FILE = '.gatehouse.yml';

const regexSource = z.string().min(1);

const customRuleSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case'),
    description: z.string().min(1),
    severity: z.enum(SEVERITIES).default('high'),
    keywords: z.array(z.string().min(1)).default([]),
    regex: regexSource.optional(),
    flags: z.string().regex(/^[imsu]*$/, 'only i, m, s and u are allowed').optional(),
    secretGroup: z.number().int().min(0).optional(),
    entropy: z.number().min(0).max(8).optional(),
    path: regexSource.optional(),
    allowlist: z
      .strictObject({
        secrets: z.array(regexSource).optional(),
        paths: z.array(regexSource).optional(),
        stopwords: z.array(z.string().min(1)).optional(),
      })
      .optional(),
  })
  .refine((r) => r.regex !== undefined || r.path !== undefined, 'a rule needs a regex, a path, or both');

const secretsSchema = z.strictObject({
  disable: z.array(z.string()).optional(),
  rules: z.array(z.unknown()).optional(),
  ignorePaths: z.array(z.string()).optional(),
  severity: z.record(z.string(), z.enum(SEVERITIES)).optional(),
});

const fileSchema = z.strictObject({
  ignorePaths: z.array(z.string()).optional(),
  secrets: secretsSchema.optional(),
});

export interface GatehouseYml {
  disabledRules: string[];
  rules: CustomRule[];
  ignorePaths: string[];
  severityOverrides: Record<string, Severity>;
  problems: string[];
}

/**
 * Reads `.gatehouse.yml`:
 *
 * ```yaml
 * ignorePaths: [ "test/fixtures/**" ]      # not scanned at all
 * secrets:
 *   disable: [ generic-password ]
 *   ignorePaths: [ "docs/**" ]              # not scanned for secrets
 *   severity: { slack-webhook-url: medium }
 *   rules:
 *     - id: acme-api-key
 *       description: ACME API key
 *       severity: high
 *       keywords: [ acme_ ]
 *       regex: '\b(acme_[a-f0-9]{32})\b'    # RE2 syntax: no lookaround or backreferences
 *       secretGroup: 1
 * ```
 *
 * Each part is checked on its own, so one bad rule or glob costs only itself.
 */
export function parseGatehouseYml(text: string): GatehouseYml {
  const result: GatehouseYml = { disabledRules: [], rules: [], ignorePaths: [], severityOverrides: {}, problems: [] };
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    result.problems.push(`${FILE}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return result;
  }
  if (raw === null || raw === undefined) return result;
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    result.problems.push(...zodProblems(FILE, parsed.error));
    return result;
  }
  const { ignorePaths = [], secrets = {} } = parsed.data;

  for (const [where, globs] of [
    ['ignorePaths', ignorePaths],
    ['secrets.ignorePaths', secrets.ignorePaths ?? []],
  ] as const) {
    globs.forEach((glob, i) => {
      try {
        globMatcher(glob);
        result.ignorePaths.push(glob);
      } catch (error) {
        result.problems.push(`${FILE}.${where}[${i}]: ${(error as Error).message}`);
      }
    });
  }
  result.disabledRules.push(...(secrets.disable ?? []));
  Object.assign(result.severityOverrides, secrets.severity ?? {});

  (secrets.rules ?? []).forEach((entry, index) => {
    const where = `${FILE}.secrets.rules[${index}]`;
    const rule = customRuleSchema.safeParse(entry);
    if (!rule.success) {
      result.problems.push(...zodProblems(where, rule.error));
      return;
    }
    const r = rule.data;
    try {
      if (r.path !== undefined) new LinearRegex(r.path);
      for (const re of [...(r.allowlist?.secrets ?? []), ...(r.allowlist?.paths ?? [])]) new LinearRegex(re);
      if (r.regex !== undefined) {
        const groups = new LinearRegex(r.regex, r.flags ?? '').groupCount;
        if ((r.secretGroup ?? 0) > groups) throw new Error(`secretGroup ${r.secretGroup} but the regex has ${groups} groups`);
      }
    } catch (error) {
      result.problems.push(`${where} (${r.id}): ${(error as Error).message}; rule skipped`);
      return;
    }
    result.rules.push({
      id: r.id,
      description: r.description,
      severity: r.severity,
      keywords: r.keywords.map((k) => k.toLowerCase()),
      regex: r.regex ?? '',
      ...(r.flags === undefined ? {} : { flags: r.flags }),
      ...(r.secretGroup === undefined ? {} : { secretGroup: r.secretGroup }),
      ...(r.entropy === undefined ? {} : { entropy: r.entropy }),
      ...(r.path === undefined ? {} : { path: r.path }),
      allowlists: r.allowlist ? [{ regexes: r.allowlist.secrets, paths: r.allowlist.paths, stopwords: r.allowlist.stopwords }] : [],
    });
  });
  return result;
}
