import type { Allowlist } from '../repo-config/types.ts';
import { PUBLIC_EXAMPLE_KEYS } from './public-examples.ts';

/**
 * Files whose content is generated or not the repository's own: lockfiles (integrity
 * hashes look like secrets), vendored trees, minified bundles and source maps.
 */
const SKIPPED_PATH = new RegExp(
  [
    // lockfiles
    '(?:^|/)(?:package-lock\\.json|npm-shrinkwrap\\.json|yarn\\.lock|pnpm-lock\\.yaml|bun\\.lockb?|Cargo\\.lock|go\\.sum|poetry\\.lock|Pipfile\\.lock|uv\\.lock|Gemfile\\.lock|composer\\.lock|packages\\.lock\\.json|gradle\\.lockfile|flake\\.lock|mix\\.lock|pubspec\\.lock|Podfile\\.lock)$',
    // vendored and generated trees
    '(?:^|/)(?:node_modules|vendor|third_party|bower_components|\\.git)/',
    // minified bundles and source maps
    '\\.min\\.(?:js|css|mjs)$',
    '\\.(?:js|css)\\.map$',
  ].join('|'),
);

/** Extensions of files that are binary or media; scanning them for text tokens only yields noise. */
const BINARY_EXTENSION =
  /\.(?:png|jpe?g|gif|bmp|ico|icns|webp|tiff?|psd|svgz|mp[34]|m4a|mov|avi|mkv|webm|wav|ogg|flac|pdf|zip|gz|tgz|bz2|xz|7z|rar|zst|jar|war|ear|class|dex|so|dylib|dll|exe|o|a|lib|obj|bin|wasm|pyc|pyo|woff2?|ttf|otf|eot|sqlite3?|db|parquet|avro|pb|onnx|pt|h5)$/i;

export function isSkippedPath(path: string): boolean {
  return SKIPPED_PATH.test(path);
}

export function isBinaryPath(path: string): boolean {
  return BINARY_EXTENSION.test(path);
}

/** Content with a NUL character in its first 8,000 characters is treated as binary, as git does. */
export function looksBinary(text: string): boolean {
  return text.slice(0, 8000).includes('\0');
}

/**
 * Values that are obviously not real secrets: template and environment references,
 * angle-bracket placeholders, "changeme"-style words, runs of one character, and
 * documented example keys.
 */
const PLACEHOLDER = new RegExp(
  [
    '^\\$\\{[^}]*\\}$', // ${VAR}
    '^\\$[A-Za-z_][A-Za-z0-9_]*$', // $VAR
    '^\\$\\([^)]*\\)$', // $(command) / $(VAR) in Makefiles
    '\\{\\{.*\\}\\}', // {{ x }} (Helm, Jinja, Actions ${{ }})
    '^%\\(?[A-Za-z_][A-Za-z0-9_]*\\)?[s%]?$', // %VAR% and %(name)s
    '^<[^<>]+>$', // <your-token>
    '^(?:x{4,}|X{4,}|\\*{3,}|\\.{3,}|#{4,}|_{4,}|-{4,})$',
    '^(.)\\1{5,}$', // one character repeated
    'changeme|change_me|change-me|replaceme|replace_me|your[-_]?(?:api[-_]?)?(?:key|token|secret|password)|placeholder|redacted',
    'EXAMPLE(?:KEY)?$',
  ].join('|'),
  'i',
);

export function isPlaceholder(secret: string): boolean {
  return PUBLIC_EXAMPLE_KEYS.has(secret) || PLACEHOLDER.test(secret);
}

/** An allow-list with its regexes compiled once (by `compile`: a repository's run on the linear-time engine). */
export class CompiledAllowlist {
  readonly #paths: Pick<RegExp, 'test'>[];
  readonly #regexes: Pick<RegExp, 'test'>[];
  readonly #target: 'secret' | 'match' | 'line';
  readonly #stopwords: string[];
  readonly #and: boolean;
  readonly #ruleIds: Set<string> | undefined;

  constructor(spec: Allowlist, compile: (source: string) => Pick<RegExp, 'test'> = (source) => new RegExp(source)) {
    this.#ruleIds = spec.ruleIds ? new Set(spec.ruleIds) : undefined;
    this.#paths = (spec.paths ?? []).map((p) => compile(p));
    this.#regexes = (spec.regexes ?? []).map((r) => compile(r));
    this.#target = spec.regexTarget ?? 'secret';
    this.#stopwords = (spec.stopwords ?? []).map((w) => w.toLowerCase());
    this.#and = spec.condition === 'and';
  }

  /** Whether this list is about findings of `ruleId` at all. */
  appliesTo(ruleId: string): boolean {
    return !this.#ruleIds || this.#ruleIds.has(ruleId);
  }

  get hasPaths(): boolean {
    return this.#paths.length > 0;
  }

  get appliesToAllRules(): boolean {
    return !this.#ruleIds;
  }

  /** Cheap check usable before any scanning: the list allows every finding in this path (of the rules it applies to). */
  allowsWholePath(path: string): boolean {
    if (this.#paths.length === 0 || !this.#paths.some((re) => re.test(path))) return false;
    return !this.#and || (this.#regexes.length === 0 && this.#stopwords.length === 0);
  }

  allows(candidate: { path: string; secret: string; match: string; line: string }): boolean {
    const checks: boolean[] = [];
    if (this.#paths.length > 0) checks.push(this.#paths.some((re) => re.test(candidate.path)));
    if (this.#regexes.length > 0) {
      const target = candidate[this.#target];
      checks.push(this.#regexes.some((re) => re.test(target)));
    }
    if (this.#stopwords.length > 0) {
      const lower = candidate.secret.toLowerCase();
      checks.push(this.#stopwords.some((w) => lower.includes(w)));
    }
    if (checks.length === 0) return false;
    return this.#and ? checks.every(Boolean) : checks.some(Boolean);
  }
}
