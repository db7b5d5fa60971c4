// The throughput cost of the linear-time engine: the full built-in rule set run by the secret
// engine as it ships (JavaScript's backtracking RegExp) against the same rules with their
// regexes compiled by re2js (the engine repository-supplied rules run on), side by side, on a
// corpus of real source files (this repository's node_modules, read in a fixed order).
//  1. through the engine (keyword pre-filter, then regexes on the lines that hold a keyword);
//  2. raw: every rule's regex over every line of a smaller slice, no pre-filter.
// RE2 has no lookaround, which most built-in rules use at their edges: see forRe2 below.
// Run: npm run bench -- regex-engine   (or node --import tsx bench/regex-engine.bench.ts [MB])
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LinearRegex } from '../src/scan/repo-config/linear-regex.ts';
import { EMPTY_REPO_CONFIG, type CustomRule } from '../src/scan/repo-config/index.ts';
import { SecretScanner } from '../src/scan/secrets/engine.ts';
import type { SecretRule } from '../src/scan/secrets/rule.ts';
import { RULES } from '../src/scan/secrets/rules/index.ts';

const MB = 1 << 20;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpusMb = Number(process.argv[2] ?? 8);
const RAW_MB = 0.1;
const PASSES = 3;
const TEXT_FILE = /\.(?:[cm]?[jt]s|json|md|ya?ml|txt|d\.ts)$/;

function collect(dir: string, budget: number, out: { path: string; text: string }[], used = { bytes: 0 }): void {
  for (const name of readdirSync(dir).sort()) {
    if (used.bytes >= budget) return;
    const full = path.join(dir, name);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) collect(full, budget, out, used);
    else if (TEXT_FILE.test(name) && !name.includes('.min.') && stat.size > 0 && stat.size < 256 * 1024) {
      const text = readFileSync(full, 'utf8');
      out.push({ path: path.relative(root, full).replace(/^node_modules\//, 'vendor-copy/'), text });
      used.bytes += Buffer.byteLength(text);
    }
  }
}

/**
 * Most built-in rules bound their tokens with lookaround (`(?<![A-Za-z0-9])…(?![A-Za-z0-9])`),
 * which RE2 does not have. For this comparison only, a lookaround of one character class
 * becomes that class's complement or the text's edge (consuming one character: the cost is
 * the same shape), the atomic-group idiom `(?=(X))\1` becomes `(X)`, other positive lookaround
 * the group itself, and counts over RE2's 1000 are capped.
 * Rules still refused (backreferences) are left out of both sides.
 */
function forRe2(source: string): string {
  const complement = (cls: string) => (cls.startsWith('[^') ? `[${cls.slice(2)}` : `[^${cls.slice(1)}`);
  return source
    .replace(/\(\?<!(\[(?:[^\]\\]|\\.)*\])\)/g, (_, cls: string) => `(?:^|${complement(cls)})`)
    .replace(/\(\?!(\[(?:[^\]\\]|\\.)*\])\)/g, (_, cls: string) => `(?:$|${complement(cls)})`)
    // `(?=(X))\1`, JavaScript's atomic group, is `(X)` on an engine that never backtracks.
    .replace(/\(\?=(\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\))\)\\1/g, '$1')
    .replace(/\(\?<?=/g, '(?:')
    .replace(/\{(\d+),(\d+)\}/g, (_, lo: string, hi: string) => `{${Math.min(Number(lo), 1000)},${Math.min(Number(hi), 1000)}}`);
}

function forRe2Rule(rule: SecretRule): SecretRule | undefined {
  const converted: SecretRule = {
    ...rule,
    regex: forRe2(rule.regex),
    ...(rule.allowlist
      ? { allowlist: { ...rule.allowlist, secrets: rule.allowlist.secrets?.map(forRe2), paths: rule.allowlist.paths?.map(forRe2) } }
      : {}),
  };
  try {
    if (converted.regex !== '') new LinearRegex(converted.regex, converted.flags ?? '');
    for (const source of [...(converted.allowlist?.secrets ?? []), ...(converted.allowlist?.paths ?? []), ...(converted.path ? [converted.path] : [])]) new LinearRegex(source);
    // The JavaScript side runs the converted rule too, so both engines run the same patterns.
    new RegExp(converted.regex, converted.flags ?? '');
    return converted;
  } catch {
    return undefined;
  }
}

/** The same rule as a repository rule, which the engine compiles with re2js. */
const asRepositoryRule = ({ examples: _examples, allowlist, ...rule }: SecretRule): CustomRule => ({
  ...rule,
  allowlists: allowlist ? [{ paths: allowlist.paths, regexes: allowlist.secrets, stopwords: allowlist.stopwords }] : [],
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(run: () => number): { ms: number; result: number } {
  let result = 0;
  const times: number[] = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    const start = process.hrtime.bigint();
    result = run();
    if (pass > 0) times.push(Number(process.hrtime.bigint() - start) / 1e6); // pass 0 warms up
  }
  return { ms: median(times), result };
}

const files: { path: string; text: string }[] = [];
collect(path.join(root, 'node_modules'), corpusMb * MB, files);
const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
const converted = RULES.map((rule) => [rule, forRe2Rule(rule)] as const);
const rules = converted.flatMap(([, c]) => (c ? [c] : []));
const leftOut = converted.flatMap(([rule, c]) => (c ? [] : [rule.id]));
const verbatim = converted.filter(([rule, c]) => c && c.regex === rule.regex).length;
console.log(`corpus: ${files.length} files from node_modules, ${(bytes / MB).toFixed(1)} MB`);
console.log(`rules: ${rules.length} of ${RULES.length} built-in rules (${verbatim} as written, the rest with lookaround rewritten for RE2; left out: ${leftOut.join(', ') || 'none'})`);

// 1. Through the engine.
const jsScanner = new SecretScanner({ rules });
const re2Scanner = new SecretScanner({ rules: [], config: { ...EMPTY_REPO_CONFIG, customRules: rules.map(asRepositoryRule) } });
const scanAll = (scanner: SecretScanner) => () => files.reduce((n, f) => n + scanner.scanText(f.path, f.text).length, 0);
const js = time(scanAll(jsScanner));
const re2 = time(scanAll(re2Scanner));
const rate = (b: number, ms: number) => `${(b / MB / (ms / 1000)).toPrecision(3)} MB/s`;
console.log(`engine, JavaScript RegExp: ${rate(bytes, js.ms)} (median ${js.ms.toFixed(0)} ms, ${js.result} findings)`);
console.log(`engine, re2js:             ${rate(bytes, re2.ms)} (median ${re2.ms.toFixed(0)} ms, ${re2.result} findings)`);
console.log(`engine slowdown: ${(re2.ms / js.ms).toFixed(2)}x`);

// 2. Raw regex throughput, every rule on every line.
const lines: string[] = [];
let rawBytes = 0;
for (const f of files) {
  for (const line of f.text.split('\n')) {
    if (rawBytes >= RAW_MB * MB) break;
    lines.push(line);
    rawBytes += line.length + 1;
  }
}
const withRegex = rules.filter((r) => r.regex !== '');
const jsRegexes = withRegex.map((r) => new RegExp(r.regex, `g${r.flags ?? ''}`));
const re2Regexes = withRegex.map((r) => new LinearRegex(r.regex, r.flags ?? ''));
const runRaw = (regexes: Pick<RegExp, 'exec' | 'lastIndex'>[]) => () => {
  let found = 0;
  for (const regex of regexes) {
    for (const line of lines) {
      regex.lastIndex = 0;
      for (let m = regex.exec(line); m; m = regex.exec(line)) {
        found++;
        if (m[0].length === 0) regex.lastIndex++;
      }
    }
  }
  return found;
};
const rawJs = time(runRaw(jsRegexes));
const rawRe2 = time(runRaw(re2Regexes));
const ruleBytes = rawBytes * withRegex.length;
console.log(`raw, ${withRegex.length} regexes x ${(rawBytes / MB).toFixed(1)} MB, no pre-filter:`);
console.log(`  JavaScript RegExp: ${rate(ruleBytes, rawJs.ms)} of rule-bytes (${rate(rawBytes, rawJs.ms)} for the whole rule set; ${rawJs.result} matches)`);
console.log(`  re2js:             ${rate(ruleBytes, rawRe2.ms)} of rule-bytes (${rate(rawBytes, rawRe2.ms)} for the whole rule set; ${rawRe2.result} matches)`);
console.log(`raw slowdown: ${(rawRe2.ms / rawJs.ms).toFixed(2)}x`);
