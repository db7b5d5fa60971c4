import { LinearRegex } from '../repo-config/linear-regex.ts';
import type { Allowlist, CustomRule } from '../repo-config/types.ts';
import type { Severity } from '../types.ts';
import { CompiledAllowlist } from './allowlist.ts';
import type { SecretRule } from './rule.ts';
import { loopShortRepeats } from './short-repeats.ts';
import { CHECKSUMS, VERIFIERS } from './verify.ts';

/** Lines either side of a keyword that a multi-line rule sees by default: room for an 8192-bit PEM key. */
const WINDOW_LINES = 120;

/** What the engine uses of a rule's regex: a RegExp for a built-in rule, a LinearRegex for a repository's. */
export type RuleRegex = Pick<RegExp, 'exec' | 'lastIndex' | 'source' | 'flags'>;

/** A rule ready to run: regexes compiled, allow-lists normalised. */
export interface CompiledRule {
  id: string;
  description: string;
  severity: Severity;
  keywords: string[];
  /** False for a path-only (whole-file) rule. */
  hasRegex: boolean;
  /** Global regex; `undefined` for a path-only (whole-file) rule. */
  readonly regex: RuleRegex | undefined;
  /** Capture group holding the secret; -1 = the first non-empty group, else the whole match. */
  secretGroup: number;
  entropy: number;
  /** Restricts the rule to matching paths; with no regex the path match is the finding. */
  path: Pick<RegExp, 'test'> | undefined;
  allowlists: CompiledAllowlist[];
  /** Lines before and after each keyword's line the regex runs on; undefined: the line alone. */
  readonly window: { before: number; after: number } | undefined;
  verify: ((secret: string) => boolean) | undefined;
  checksum: ((secret: string) => boolean) | undefined;
  /**
   * A rule whose id starts with `generic` (assignment-shaped rules with no token format
   * of their own). It loses to any specific rule that flags an overlapping secret.
   */
  generic: boolean;
}

/**
 * Whether a rule's regex can match across a line break. Only rules that say so
 * explicitly (a `\n`/`\r` or `\s` inside a non-negated class, a bare `\n`/`\r`, `[^]`,
 * or the `s` flag with `.`) are run on multi-line windows; `\s*` outside a class never
 * spans lines, which keeps generic assignment rules from pairing a key with the next
 * line's value. Negated classes such as `[^\n'"]` exclude line breaks, so they do not count.
 */
export function isMultiline(source: string, flags: string): boolean {
  // Escapes are consumed first so that `\[` is not taken for the start of a class.
  const tokens = source.match(/\\.|\[(?:[^\]\\]|\\.)*\]|[^\\[]+|\[/g) ?? [];
  const classes = tokens.filter((t) => t.length > 1 && t.startsWith('['));
  const outside = tokens.filter((t) => !(t.length > 1 && t.startsWith('['))).join('');
  return (
    /\\[nr]/.test(outside) ||
    classes.some((c) => (c === '[^]' || !c.startsWith('[^')) && /\\[nrs]|^\[\^\]$/.test(c)) ||
    (flags.includes('s') && /(?:^|[^\\])\./.test(outside))
  );
}

/** `make()` once, on the first call. */
function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}

/**
 * Built-in rules are ours and run on JavaScript's engine, with their short repeats kept as
 * loops (short-repeats.ts: they compile in a fraction of the time); a repository's rules
 * (the ones with `allowlists`) and their allow-lists run on the linear-time one, whatever
 * they contain.
 *
 * A built-in rule's regex (and the window that follows from it) is compiled when the rule
 * first runs: a scan of a few files, like a pre-commit hook's, meets a handful of the rules'
 * keywords, and compiling all of them was about half of building the scanner. A repository's
 * rule is compiled at once, so that a bad pattern is reported before the scan starts.
 */
export function compileRule(rule: SecretRule | CustomRule): CompiledRule {
  const flags = [...new Set(`g${(rule.flags ?? '').replace(/[gyd]/g, '')}`)].join('');
  const fromRepository = 'allowlists' in rule;
  const compile = fromRepository ? (source: string, f = '') => new LinearRegex(source, f) : (source: string, f = '') => new RegExp(loopShortRepeats(source, f), f);
  const hasRegex = rule.regex !== '';
  if (!hasRegex && rule.path === undefined) throw new Error(`secret rule "${rule.id}": needs a regex or a path`);
  const regexOf = once((): RuleRegex | undefined => {
    if (!hasRegex) return undefined;
    try {
      return compile(rule.regex, flags);
    } catch (error) {
      throw new Error(`secret rule "${rule.id}": invalid regex: ${(error as Error).message}`);
    }
  });
  if (fromRepository) regexOf();
  const windowOf = once(() => {
    const regex = regexOf();
    return !regex ? undefined : (rule.window ?? (isMultiline(regex.source, regex.flags) ? { before: WINDOW_LINES, after: WINDOW_LINES } : undefined));
  });
  const allowlists: Allowlist[] =
    fromRepository
      ? rule.allowlists
      : rule.allowlist
        ? [{ paths: rule.allowlist.paths, regexes: rule.allowlist.secrets, stopwords: rule.allowlist.stopwords }]
        : [];
  return {
    id: rule.id,
    description: rule.description,
    severity: rule.severity,
    keywords: rule.keywords.map((k) => k.toLowerCase()).filter((k) => k.length > 0),
    hasRegex,
    get regex() {
      return regexOf();
    },
    secretGroup: rule.secretGroup === 'first' ? -1 : (rule.secretGroup ?? 0),
    entropy: rule.entropy ?? 0,
    path: rule.path === undefined ? undefined : compile(rule.path),
    allowlists: allowlists.map((a) => new CompiledAllowlist(a, compile)),
    get window() {
      return windowOf();
    },
    verify: rule.verify ? VERIFIERS[rule.verify] : undefined,
    checksum: rule.checksum ? CHECKSUMS[rule.checksum] : undefined,
    generic: rule.id.startsWith('generic'),
  };
}
