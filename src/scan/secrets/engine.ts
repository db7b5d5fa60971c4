import { globMatcher, type GlobMatcher } from '../repo-config/glob-matcher.ts';
import { LinearRegex } from '../repo-config/linear-regex.ts';
import { EMPTY_REPO_CONFIG, type RepoScanConfig } from '../repo-config/types.ts';
import type { SecretFinding } from '../types.ts';
import { AhoCorasick } from './aho-corasick.ts';
import { CompiledAllowlist, isBinaryPath, isPlaceholder, isSkippedPath, looksBinary } from './allowlist.ts';
import { compileRule, type CompiledRule } from './compile.ts';
import { shannonEntropy } from './entropy.ts';
import { findingFingerprint, gitleaksFingerprint, keyedFingerprint, sha256Hex } from './fingerprint.ts';
import { hasInlineIgnore } from './inline-ignore.ts';
import { maskSecret } from './mask.ts';
import type { SecretRule } from './rule.ts';
import { RULES } from './rules/index.ts';

export interface SecretScannerOptions {
  /** Built-in rules; defaults to every rule in `./rules`. */
  rules?: readonly SecretRule[];
  /** What the repository's `.gatehouse.yml`, `.gitleaks.toml` and `.gitleaksignore` say. */
  config?: RepoScanConfig;
  /** The key the caller publishes fingerprints under (keyFinding): ignore entries may list those as well. */
  fingerprintKey?: Buffer;
}

/**
 * A multi-line rule sees its window of lines either side of the line holding its keyword,
 * and at most this many bytes either side (an 8192-bit PEM key fits).
 */
const WINDOW_BYTES = 16_384;

/** A regex match that passed every filter, before it becomes a finding. */
interface Candidate {
  rule: number;
  /** Where the finding is reported: the secret, or the match when the secret starts on a later line (a PEM body). */
  reportAt: number;
  secret: string;
  secretStart: number;
  secretEnd: number;
  /** Whether the token's checksum verified; undefined when the rule has none. */
  checksum?: boolean;
}

/**
 * The secret engine: content in, findings out. One instance compiles its rules and
 * keyword automaton once and can scan any number of files; it keeps no state between
 * calls, so it is safe to share.
 *
 * How a file is scanned: the Aho-Corasick automaton runs once over the whole text and
 * notes, per rule, the lines on which one of its keywords occurs. Each rule's regex then
 * runs on those lines only (multi-line rules on a window of lines around them). Matches
 * are filtered by entropy, placeholders, allow-lists and inline `gatehouse:allow` /
 * `gitleaks:allow` comments; overlapping findings of a generic and a specific rule keep
 * the specific one. The secret itself never leaves this class: findings carry a masked
 * preview and a sha256.
 */
export class SecretScanner {
  readonly #rules: CompiledRule[];
  readonly #automaton: AhoCorasick;
  readonly #keywordLengths: number[];
  /** Rule indexes per keyword index. */
  readonly #rulesByKeyword: number[][];
  /** Rules with no keywords, run on every line. */
  readonly #keywordless: number[];
  readonly #pathOnly: number[];
  /** Rules whose applicability depends on the path (a path pattern or path allow-lists). */
  readonly #pathSensitive: number[];
  readonly #ignoreGlobs: GlobMatcher[];
  readonly #allowlists: CompiledAllowlist[];
  readonly #severity: RepoScanConfig['severityOverrides'];
  readonly #ignoredFingerprints: Set<string>;
  readonly #fingerprintKey: Buffer | undefined;

  constructor(opts: SecretScannerOptions = {}) {
    const config = opts.config ?? EMPTY_REPO_CONFIG;
    const disabled = new Set(config.disabledRules);
    const byId = new Map<string, CompiledRule>();
    for (const rule of [...(opts.rules ?? RULES), ...config.customRules]) {
      if (!disabled.has(rule.id)) byId.set(rule.id, compileRule(rule));
    }
    this.#rules = [...byId.values()];

    const keywordIndex = new Map<string, number>();
    this.#rulesByKeyword = [];
    this.#keywordless = [];
    this.#pathOnly = [];
    this.#rules.forEach((rule, r) => {
      if (!rule.hasRegex) {
        this.#pathOnly.push(r);
        return;
      }
      if (rule.keywords.length === 0) this.#keywordless.push(r);
      for (const keyword of new Set(rule.keywords)) {
        let k = keywordIndex.get(keyword);
        if (k === undefined) {
          k = keywordIndex.size;
          keywordIndex.set(keyword, k);
          this.#rulesByKeyword.push([]);
        }
        this.#rulesByKeyword[k]!.push(r);
      }
    });
    const keywords = [...keywordIndex.keys()];
    this.#automaton = new AhoCorasick(keywords);
    this.#keywordLengths = keywords.map((k) => k.length);

    // Globs and allow-lists come from the repository: matched in linear time.
    this.#ignoreGlobs = config.ignorePaths.map(globMatcher);
    this.#allowlists = config.allowlists.map((a) => new CompiledAllowlist(a, (source) => new LinearRegex(source)));
    this.#pathSensitive = this.#rules.flatMap((rule, r) =>
      rule.path || [...rule.allowlists, ...this.#allowlists].some((a) => a.appliesTo(rule.id) && a.hasPaths) ? [r] : [],
    );
    this.#severity = config.severityOverrides;
    this.#ignoredFingerprints = new Set(config.ignoredFingerprints);
    this.#fingerprintKey = opts.fingerprintKey;
  }

  /** Ids of the rules this scanner runs, built-in and custom, minus disabled ones. */
  get ruleIds(): string[] {
    return this.#rules.map((r) => r.id);
  }

  /**
   * True when `path` should not be read at all: lockfiles, vendored trees, minified
   * bundles, the repository's ignored paths, and binary files that no whole-file rule
   * (such as a PKCS#12 rule) is interested in.
   */
  shouldSkipPath(path: string): boolean {
    if (isSkippedPath(path) || this.#ignoreGlobs.some((re) => re.test(path))) return true;
    if (this.#allowlists.some((a) => a.appliesToAllRules && a.allowsWholePath(path))) return true;
    return isBinaryPath(path) && !this.#pathOnly.some((r) => this.#rules[r]!.path!.test(path));
  }

  scanText(path: string, text: string): SecretFinding[] {
    if (this.shouldSkipPath(path)) return [];
    const active = this.#activeRules(path);
    const findings = this.#wholeFileFindings(path, active, text);
    if (!looksBinary(text) && !isBinaryPath(path)) findings.push(...this.#scanChunk(path, active, text, 1));
    return this.#withoutIgnored(findings);
  }

  /**
   * A file known by its path alone, such as a binary file whose content is not read:
   * only whole-file rules apply, on the name (a binary .p12 is a keystore; a text file
   * named .p12, scanned with scanText, has its content checked first).
   */
  scanPath(path: string): SecretFinding[] {
    if (this.shouldSkipPath(path)) return [];
    return this.#withoutIgnored(this.#wholeFileFindings(path, this.#activeRules(path)));
  }

  /**
   * Scans selected lines of a file, such as the added lines of a diff. Runs of
   * consecutive line numbers are scanned together, so a multi-line secret added as a
   * block is still recognised.
   */
  scanLines(path: string, lines: Iterable<{ line: number; text: string }>): SecretFinding[] {
    if (this.shouldSkipPath(path)) return [];
    const active = this.#activeRules(path);
    const findings = this.#wholeFileFindings(path, active);
    if (!isBinaryPath(path)) {
      let block: string[] = [];
      let first = 0;
      let next = 0;
      const flush = () => {
        if (block.length > 0) findings.push(...this.#scanChunk(path, active, block.join('\n'), first));
        block = [];
      };
      for (const { line, text } of lines) {
        if (line !== next) {
          flush();
          first = line;
        }
        block.push(text);
        next = line + 1;
      }
      flush();
    }
    return this.#withoutIgnored(findings);
  }

  #activeRules(path: string): Uint8Array {
    const active = new Uint8Array(this.#rules.length).fill(1);
    for (const r of this.#pathSensitive) {
      const rule = this.#rules[r]!;
      const inScope = !rule.path || rule.path.test(path);
      const allowed = [...rule.allowlists, ...this.#allowlists].some((a) => a.appliesTo(rule.id) && a.allowsWholePath(path));
      active[r] = inScope && !allowed ? 1 : 0;
    }
    return active;
  }

  /**
   * Findings of whole-file rules. A rule with a content check (a real PKCS#12 file, not
   * any file named .p12) applies it when the content is at hand; a binary file passed by
   * name, or a diff, has none, so there the name decides.
   */
  #wholeFileFindings(path: string, active: Uint8Array, content?: string): SecretFinding[] {
    const rules = this.#pathOnly
      .filter((r) => active[r] === 1 && this.#rules[r]!.path!.test(path))
      .filter((r) => content === undefined || !this.#rules[r]!.verify || this.#rules[r]!.verify!(content));
    // Hashed only when something is found: this runs for every file scanned.
    return rules.map((r) => this.#finding(this.#rules[r]!, path, 0, 0, '(whole file)', sha256Hex(path)));
  }

  /** Scans `text` whose first line is line `firstLine` of the file. */
  #scanChunk(path: string, active: Uint8Array, text: string, firstLine: number): SecretFinding[] {
    const lineSpans = this.#keywordLines(text, active);
    const candidates: Candidate[] = [];
    lineSpans.forEach((spans, r) => {
      const rule = this.#rules[r]!;
      if (rule.window) this.#runWindows(rule, r, path, text, spans, candidates);
      else this.#runLines(rule, r, path, text, spans, candidates);
    });
    if (candidates.length === 0) return [];

    const lineStarts = lineStartOffsets(text);
    return preferSpecific(candidates, this.#rules).map((c) => {
      const index = lineIndexOf(lineStarts, c.reportAt);
      const column = c.reportAt - lineStarts[index]! + 1;
      return this.#finding(this.#rules[c.rule]!, path, firstLine + index, column, maskSecret(c.secret), sha256Hex(c.secret), c.checksum);
    });
  }

  /** Per rule, flat [start, end) offsets of the lines that hold one of its keywords. */
  #keywordLines(text: string, active: Uint8Array): Map<number, number[]> {
    const spans = new Map<number, number[]>();
    const lastLine = new Int32Array(this.#rules.length).fill(-1);
    let lineStart = -1;
    let lineEnd = -1;
    const note = (r: number) => {
      if (active[r] === 0 || lastLine[r] === lineStart) return;
      lastLine[r] = lineStart;
      let list = spans.get(r);
      if (!list) spans.set(r, (list = []));
      list.push(lineStart, lineEnd);
    };
    this.#automaton.search(text, (keyword, end) => {
      const start = end - this.#keywordLengths[keyword]!;
      if (start < lineStart || start > lineEnd) {
        lineStart = text.lastIndexOf('\n', start - 1) + 1;
        lineEnd = text.indexOf('\n', start);
        if (lineEnd === -1) lineEnd = text.length;
      }
      for (const r of this.#rulesByKeyword[keyword]!) note(r);
    });
    if (this.#keywordless.some((r) => active[r] === 1)) {
      for (let start = 0; start <= text.length; ) {
        let end = text.indexOf('\n', start);
        if (end === -1) end = text.length;
        lineStart = start;
        lineEnd = end;
        for (const r of this.#keywordless) note(r);
        start = end + 1;
      }
    }
    return spans;
  }

  #runLines(rule: CompiledRule, r: number, path: string, text: string, spans: number[], out: Candidate[]): void {
    for (let i = 0; i < spans.length; i += 2) {
      const start = spans[i]!;
      let end = spans[i + 1]!;
      if (end > start && text.charCodeAt(end - 1) === 13) end--;
      this.#runRegex(rule, r, path, text, start, end, out);
    }
  }

  #runWindows(rule: CompiledRule, r: number, path: string, text: string, spans: number[], out: Candidate[]): void {
    let windowStart = -1;
    let windowEnd = -1;
    for (let i = 0; i < spans.length; i += 2) {
      const start = expandBackwards(text, spans[i]!, rule.window!.before);
      const end = expandForwards(text, spans[i + 1]!, rule.window!.after);
      if (start <= windowEnd) {
        windowEnd = Math.max(windowEnd, end);
        continue;
      }
      if (windowEnd >= 0) this.#runRegex(rule, r, path, text, windowStart, windowEnd, out);
      windowStart = start;
      windowEnd = end;
    }
    if (windowEnd >= 0) this.#runRegex(rule, r, path, text, windowStart, windowEnd, out);
  }

  #runRegex(rule: CompiledRule, r: number, path: string, text: string, from: number, to: number, out: Candidate[]): void {
    const regex = rule.regex!;
    const slice = text.slice(from, to);
    // Bounds of the line holding the current match, in `slice`. Matches come in order,
    // so each line is measured once: a 1 MB line with 50,000 matches stays linear.
    let lineStart = -1;
    let lineEnd = -1;
    let lineIgnored = false;
    regex.lastIndex = 0;
    for (let m = regex.exec(slice); m !== null; m = regex.exec(slice)) {
      if (m[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      const secret = rule.secretGroup === -1 ? (m.slice(1).find((g) => g) ?? m[0]) : m[rule.secretGroup];
      if (!secret) continue;
      if (rule.entropy > 0 && shannonEntropy(secret) < rule.entropy) continue;
      if (isPlaceholder(secret)) continue;
      if (rule.verify && !rule.verify(secret)) continue;

      if (m.index > lineEnd || m.index < lineStart) {
        lineStart = slice.lastIndexOf('\n', m.index - 1) + 1;
        lineEnd = slice.indexOf('\n', m.index);
        if (lineEnd === -1) lineEnd = slice.length;
        lineIgnored = hasInlineIgnore(slice.slice(lineStart, lineEnd));
      }
      const secretOffset = Math.max(0, m[0].indexOf(secret));
      const breakInMatch = m[0].indexOf('\n');
      let line: string;
      if (breakInMatch === -1) {
        if (lineIgnored) continue;
        line = slice.slice(lineStart, lineEnd);
      } else {
        // A multi-line match: the comment may sit on any of its lines.
        const end = slice.indexOf('\n', m.index + m[0].length - 1);
        line = slice.slice(lineStart, end === -1 ? slice.length : end);
        if (hasInlineIgnore(line)) continue;
      }
      const candidate = { path, secret, match: m[0], line };
      if (rule.allowlists.some((a) => a.allows(candidate))) continue;
      if (this.#allowlists.some((a) => a.appliesTo(rule.id) && a.allows(candidate))) continue;
      const matchStart = from + m.index;
      const secretStart = matchStart + secretOffset;
      const reportAt = breakInMatch !== -1 && breakInMatch < secretOffset ? matchStart : secretStart;
      out.push({ rule: r, reportAt, secret, secretStart, secretEnd: secretStart + secret.length, checksum: rule.checksum?.(secret) });
    }
  }


  #finding(rule: CompiledRule, path: string, line: number, column: number, preview: string, secretHash: string, checksum?: boolean): SecretFinding {
    const where = line === 0 ? path : `${path}:${line}`;
    // A failed checksum means a sample or a typo, not a live token: still shown, never blocking.
    const note = checksum === undefined ? '' : checksum ? ' Its checksum verifies.' : ' Its checksum does not verify, so it is probably a sample or a mistyped token.';
    return {
      kind: 'secret',
      ruleId: rule.id,
      severity: this.#severity[rule.id] ?? (checksum === false ? 'low' : rule.severity),
      path,
      line,
      column,
      fingerprint: findingFingerprint(rule.id, path, secretHash),
      message: `${rule.description} found at ${where} (${preview}).${note}`,
      description: rule.description,
      preview,
      secretHash,
    };
  }

  #withoutIgnored(findings: SecretFinding[]): SecretFinding[] {
    if (this.#ignoredFingerprints.size === 0) return findings;
    return findings.filter(
      (f) =>
        !this.#ignoredFingerprints.has(f.fingerprint) &&
        !this.#ignoredFingerprints.has(gitleaksFingerprint(f.path, f.ruleId, f.line)) &&
        !(this.#fingerprintKey && this.#ignoredFingerprints.has(keyedFingerprint(f, this.#fingerprintKey))),
    );
  }
}

/**
 * Drops duplicates (the same rule reporting the same secret twice from overlapping
 * windows) and, where a generic rule's secret overlaps a specific rule's, the generic
 * finding. Among findings of equal specificity on the same span, the earlier rule wins.
 */
function preferSpecific(candidates: Candidate[], rules: CompiledRule[]): Candidate[] {
  const sorted = [...candidates].sort((a, b) => a.secretStart - b.secretStart || a.rule - b.rule);
  const longest = sorted.reduce((max, c) => Math.max(max, c.secretEnd - c.secretStart), 0);
  const kept: Candidate[] = [];
  for (const c of sorted) {
    const generic = rules[c.rule]!.generic;
    let drop = false;
    // `kept` is ordered by start, so once a kept secret starts a full `longest` before
    // this one, neither it nor anything before it can overlap.
    for (let i = kept.length - 1; i >= 0 && kept[i]!.secretStart + longest > c.secretStart; i--) {
      const k = kept[i]!;
      if (k.secretEnd <= c.secretStart) continue;
      const keptGeneric = rules[k.rule]!.generic;
      if (generic && !keptGeneric) drop = true;
      else if (!generic && keptGeneric) kept.splice(i, 1);
      else if (k.secretStart === c.secretStart && (k.rule === c.rule || k.secretEnd === c.secretEnd)) drop = true;
    }
    if (!drop) kept.push(c);
  }
  return kept;
}

function expandBackwards(text: string, lineStart: number, lines: number): number {
  let start = lineStart;
  for (let i = 0; i < lines && start > 0 && lineStart - start < WINDOW_BYTES; i++) {
    start = text.lastIndexOf('\n', start - 2) + 1;
  }
  return start;
}

function expandForwards(text: string, lineEnd: number, lines: number): number {
  let end = lineEnd;
  for (let i = 0; i < lines && end < text.length && end - lineEnd < WINDOW_BYTES; i++) {
    const next = text.indexOf('\n', end + 1);
    end = next === -1 ? text.length : next;
  }
  return end;
}

function lineStartOffsets(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Index of the line containing `offset` (binary search over line starts). */
function lineIndexOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
