import { describe, expect, it } from 'vitest';
import type { RepoConfigFiles } from '../src/scan/repo-config/index.ts';
import { evaluateInWorker } from './helpers/hang-guard.ts';

/**
 * Patterns from a repository's `.gitleaks.toml` and `.gatehouse.yml` are any pull request
 * author's to write. On a backtracking engine `(a|a)+$` against 29 characters took a minute
 * and `(a+){12}$` three, and an ignore glob `*a*a…*b` three more, with the process answering
 * nothing meanwhile. They must run in linear time: each case below answers, with the right
 * result, in milliseconds. The scan runs in a worker thread so that the hang guard can stop
 * it on an engine that would stall (a hang guard, not a timing assertion).
 */

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const STALL = `${'a'.repeat(28)}b`;
const HANG_GUARD_MS = 20_000;

const repoConfig = new URL('../src/scan/repo-config/index.ts', import.meta.url).href;
const engine = new URL('../src/scan/secrets/engine.ts', import.meta.url).href;

/** Rule ids and lines found in `text` at `path` under the given repository configuration, computed in a worker. */
async function scan(files: RepoConfigFiles, path: string, text: string): Promise<{ found: string[]; problems: string[] }> {
  return (await evaluateInWorker(
    { [repoConfig]: ['loadRepoConfig'], [engine]: ['SecretScanner'] },
    `(() => {
      const { config, problems } = loadRepoConfig(files);
      const found = new SecretScanner({ config }).scanText(path, text).map((f) => f.ruleId + ':' + f.line);
      return { found, problems };
    })()`,
    { files, path, text },
    HANG_GUARD_MS,
  )) as { found: string[]; problems: string[] };
}

const leak = (tail: string) => `key = "${AWS_KEY}"\n${tail}\n`;

describe('repository-supplied patterns run in linear time', () => {
  it('a .gitleaks.toml rule (a|a)+$ on a line that makes it backtrack', { timeout: 30_000 }, async () => {
    const toml = "[[rules]]\nid = 'alternation'\nregex = '''(a|a)+$'''\n";
    expect(await scan({ gitleaksToml: toml }, 'src/a.txt', leak(STALL))).toEqual({ found: ['aws-access-key-id:1'], problems: [] });
  });

  it('a .gitleaks.toml rule (a+){12}$', { timeout: 30_000 }, async () => {
    const toml = "[[rules]]\nid = 'counted'\nregex = '''(a+){12}$'''\n";
    expect(await scan({ gitleaksToml: toml }, 'src/a.txt', leak(`${'a'.repeat(40)}b`))).toEqual({ found: ['aws-access-key-id:1'], problems: [] });
  });

  it('a .gatehouse.yml rule with nested alternation, which the old guard let through', { timeout: 30_000 }, async () => {
    const yml = "secrets:\n  rules:\n    - id: alternation\n      description: x\n      regex: '(a|a)+$'\n";
    expect(await scan({ gatehouseYml: yml }, 'src/a.txt', leak(STALL))).toEqual({ found: ['aws-access-key-id:1'], problems: [] });
  });

  it('allow-list regexes against the line, and allow-list paths', { timeout: 30_000 }, async () => {
    const toml = ["[allowlist]", "regexTarget = 'line'", "regexes = ['''(a|a)+$''']", "paths = ['''^(a|a)+$''']"].join('\n');
    expect(await scan({ gitleaksToml: toml }, 'src/a.txt', `key = "${AWS_KEY}" ${STALL}\n`)).toEqual({ found: ['aws-access-key-id:1'], problems: [] });
    expect(await scan({ gitleaksToml: toml }, STALL, `key = "${AWS_KEY}"\n`)).toEqual({ found: ['aws-access-key-id:1'], problems: [] });
  });

  it('a rule path pattern', { timeout: 30_000 }, async () => {
    const toml = "[[rules]]\nid = 'path-only'\npath = '''(a|a)+$'''\n";
    expect(await scan({ gitleaksToml: toml }, STALL, 'x\n')).toEqual({ found: [], problems: [] });
  });

  it('an ignore glob *a*a…*b from .gatehouse.yml against a long name', { timeout: 30_000 }, async () => {
    const yml = `ignorePaths: ["${'*a'.repeat(12)}*b"]\n`;
    const name = `src/${'a'.repeat(4_000)}`;
    expect(await scan({ gatehouseYml: yml }, name, `key = "${AWS_KEY}"\n`)).toEqual({ found: ['aws-access-key-id:1'], problems: [] });
    expect(await scan({ gatehouseYml: yml }, `src/${'a'.repeat(12)}b`, `key = "${AWS_KEY}"\n`)).toEqual({ found: [], problems: [] });
  });

  it('refuses what cannot run in linear time (lookaround, backreferences), keeping the rest', { timeout: 30_000 }, async () => {
    const toml = "[[rules]]\nid = 'lookahead'\nregex = '''key(?=x)'''\n[[rules]]\nid = 'backref'\nregex = '''(a)\\1'''\n";
    const result = await scan({ gitleaksToml: toml }, 'src/a.txt', leak('aa keyx'));
    expect(result.found).toEqual(['aws-access-key-id:1']);
    expect(result.problems).toEqual([expect.stringMatching(/rules\[0\] \(lookahead\).*rule skipped/), expect.stringMatching(/rules\[1\] \(backref\).*rule skipped/)]);
  });
});
