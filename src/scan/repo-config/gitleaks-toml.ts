import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { zodProblems } from './problems.ts';
import { LinearRegex, LinearRegexError } from './linear-regex.ts';
import type { Allowlist, CustomRule } from './types.ts';

const FILE = '.gitleaks.toml';

const allowlistSchema = z.object({
  description: z.string().optional(),
  condition: z
    .string()
    .transform((c) => c.toLowerCase())
    .pipe(z.enum(['or', 'and']))
    .optional(),
  regexTarget: z.enum(['secret', 'match', 'line']).optional(),
  regexes: z.array(z.string()).optional(),
  paths: z.array(z.string()).optional(),
  stopwords: z.array(z.string()).optional(),
  commits: z.array(z.string()).optional(),
  targetRules: z.array(z.string()).optional(),
});
type GitleaksAllowlist = z.infer<typeof allowlistSchema>;

const ruleSchema = z.object({
  id: z.string().min(1),
  description: z.string().optional(),
  regex: z.string().optional(),
  secretGroup: z.number().int().min(0).optional(),
  entropy: z.number().min(0).max(8).optional(),
  keywords: z.array(z.string()).optional(),
  path: z.string().optional(),
  allowlist: allowlistSchema.optional(),
  allowlists: z.array(allowlistSchema).optional(),
});

const fileSchema = z.object({
  extend: z
    .object({ useDefault: z.boolean().optional(), path: z.string().optional(), url: z.string().optional(), disabledRules: z.array(z.string()).optional() })
    .optional(),
  rules: z.array(z.unknown()).optional(),
  allowlist: allowlistSchema.optional(),
  allowlists: z.array(allowlistSchema).optional(),
});

export interface GitleaksConfig {
  rules: CustomRule[];
  disabledRules: string[];
  allowlists: Allowlist[];
  problems: string[];
}

/**
 * Reads a `.gitleaks.toml`: its `[[rules]]` become custom rules (Go RE2 regexes, run as
 * written on the linear-time engine of linear-regex.ts), its allow-lists global allow-lists, `[extend] disabledRules` disabled
 * rules. Gatehouse's own rules always stay on (a committed config file must not be able
 * to switch secret scanning off wholesale), so `[extend] useDefault` changes nothing,
 * and `[extend] path`/`url` cannot be followed from a pure scan and are reported.
 * A rule entry with an id but no regex or path adds its allow-lists to the rule of that
 * id, as in gitleaks. Anything that cannot be used is skipped with a problem line.
 */
export function parseGitleaksToml(text: string): GitleaksConfig {
  const result: GitleaksConfig = { rules: [], disabledRules: [], allowlists: [], problems: [] };
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    result.problems.push(`${FILE}: not valid TOML: ${firstLine((error as Error).message)}`);
    return result;
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    result.problems.push(...zodProblems(FILE, parsed.error));
    return result;
  }
  const file = parsed.data;
  if (file.extend?.path || file.extend?.url) {
    result.problems.push(`${FILE}: [extend] path/url is not followed; only this file's rules are used`);
  }
  result.disabledRules.push(...(file.extend?.disabledRules ?? []));
  const globalLists = [...(file.allowlist ? [file.allowlist] : []), ...(file.allowlists ?? [])];
  globalLists.forEach((list, i) => {
    const translated = translateAllowlist(list, `${FILE}: allowlists[${i}]`, result.problems);
    if (translated) result.allowlists.push(translated);
  });

  (file.rules ?? []).forEach((entry, index) => {
    const where = `${FILE}: rules[${index}]`;
    const rule = ruleSchema.safeParse(entry);
    if (!rule.success) {
      result.problems.push(...zodProblems(where, rule.error));
      return;
    }
    const custom = translateRule(rule.data, `${where} (${rule.data.id})`, result);
    if (custom) result.rules.push(custom);
  });
  return result;
}

function translateRule(rule: z.infer<typeof ruleSchema>, where: string, result: GitleaksConfig): CustomRule | undefined {
  const lists = [...(rule.allowlist ? [rule.allowlist] : []), ...(rule.allowlists ?? [])];
  const allowlists: Allowlist[] = [];
  for (const [i, list] of lists.entries()) {
    const translated = translateAllowlist(list, `${where}: allowlists[${i}]`, result.problems);
    if (translated) allowlists.push(translated);
  }
  if (rule.regex === undefined && rule.path === undefined) {
    if (allowlists.length === 0) {
      result.problems.push(`${where}: has neither a regex nor a path; skipped`);
    } else {
      result.allowlists.push(...allowlists.map((a) => ({ ...a, ruleIds: [rule.id] })));
    }
    return undefined;
  }
  try {
    if (rule.path !== undefined) checked(rule.path, 'path');
    if (rule.regex !== undefined) {
      const groups = checked(rule.regex, 'regex').groupCount;
      if ((rule.secretGroup ?? 0) > groups) throw new LinearRegexError(`secretGroup ${rule.secretGroup} but the regex has ${groups} groups`);
    }
    return {
      id: rule.id,
      description: rule.description ?? rule.id,
      severity: 'high',
      keywords: (rule.keywords ?? []).map((k) => k.toLowerCase()).filter((k) => k !== ''),
      regex: rule.regex ?? '',
      // As in gitleaks, an unset secretGroup means the first non-empty group (the whole match when there is none).
      secretGroup: rule.secretGroup ?? 'first',
      ...(rule.entropy === undefined ? {} : { entropy: rule.entropy }),
      ...(rule.path === undefined ? {} : { path: rule.path }),
      allowlists,
    };
  } catch (error) {
    result.problems.push(`${where}: ${messageOf(error)}; rule skipped`);
    return undefined;
  }
}

function translateAllowlist(list: GitleaksAllowlist, where: string, problems: string[]): Allowlist | undefined {
  if (list.commits?.length) problems.push(`${where}: commits are not used (scans are of trees and diffs, not commits)`);
  try {
    const translated: Allowlist = {
      ...(list.description === undefined ? {} : { description: list.description }),
      paths: (list.paths ?? []).map((p) => checked(p, 'path').source),
      regexes: (list.regexes ?? []).map((r) => checked(r, 'regex').source),
      regexTarget: list.regexTarget ?? 'secret',
      stopwords: (list.stopwords ?? []).map((w) => w.toLowerCase()),
      condition: list.condition ?? 'or',
      ...(list.targetRules ? { ruleIds: list.targetRules } : {}),
    };
    if (translated.paths!.length + translated.regexes!.length + translated.stopwords!.length === 0) return undefined;
    return translated;
  } catch (error) {
    problems.push(`${where}: ${messageOf(error)}; allow-list skipped`);
    return undefined;
  }
}

/** Compiles a repository's pattern only to check it (rules store sources); throws LinearRegexError naming `what`. */
function checked(pattern: string, what: string): LinearRegex {
  try {
    return new LinearRegex(pattern);
  } catch (error) {
    throw new LinearRegexError(`${what}: ${messageOf(error)}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? firstLine(error.message) : String(error);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}
