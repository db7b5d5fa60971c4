import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

/**
 * A pull request must not be able to switch off its own gate: the repository configuration
 * (`.gatehouse.yml`, `.gitleaks.toml`, `.gitleaksignore`) that judges it is the destination
 * branch's, never the one the pull request brings. A change to that configuration is said in
 * the report and the comment, and its diff is scanned like any other file.
 */

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const LEAK = { 'src/leak.js': `module.exports = "${AWS_KEY}";\n` };
const DESTINATION_CONFIG = 'ignorePaths: ["fixtures/**"]\n';
const NOTE = /changes \.gatehouse\.yml.*destination branch.*once merged/;

describe('pull request configuration comes from the destination branch', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let branches = 0;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('pr-config'));
    await sim.createRepository('acme', 'api', { files: { 'README.md': '# api\n', '.gatehouse.yml': DESTINATION_CONFIG } });
    await sim.forkRepository('acme/api', 'acme', 'api-fork');
    await app.settle();
  }, 60_000);

  afterAll(async () => stop?.());

  /** Opens a pull request from a new branch with `files` and waits for its results. */
  async function pullRequest(files: Record<string, string>, fork = false) {
    const repo = fork ? 'acme/api-fork' : 'acme/api';
    const branch = `change-${++branches}`;
    await sim.createBranch(repo, branch);
    await sim.commit(repo, branch, files, 'Change');
    const { id } = await sim.openPullRequest('acme/api', { source: branch, title: branch, ...(fork ? { sourceRepository: repo } : {}) });
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);
    const pr = sim.pullRequest('acme/api', id);
    const report = sim.repository(repo).reports.get(pr.sourceHash)?.find((r) => r.externalId === 'gatehouse-security');
    return {
      result: report?.body.result,
      details: String(report?.body.details ?? ''),
      annotations: (report?.annotations ?? []).map((a) => a.body),
      comment: pr.comments[0]?.raw ?? '',
      status: sim.repository(repo).statuses.get(pr.sourceHash)?.get('gatehouse-security')?.body.state,
    };
  }

  it('honours the destination configuration (its ignored paths stay ignored)', async () => {
    const scanned = await pullRequest({ 'fixtures/key.js': `module.exports = "${AWS_KEY}";\n` });
    expect(scanned.result).toBe('PASSED');
    expect(scanned.comment).not.toMatch(NOTE);
  }, 60_000);

  it('a pull request adding ignorePaths ["**"] still fails on its secret, and says it changes the configuration', async () => {
    const scanned = await pullRequest({ ...LEAK, '.gatehouse.yml': 'ignorePaths: ["**"]\n' });
    expect(scanned.result).toBe('FAILED');
    expect(scanned.status).toBe('FAILED');
    expect(scanned.annotations).toContainEqual(expect.objectContaining({ path: 'src/leak.js', result: 'FAILED' }));
    expect(scanned.details).toMatch(NOTE);
    expect(scanned.comment).toMatch(NOTE);
  }, 60_000);

  it('a pull request adding a .gitleaks.toml allow-list of every path still fails', async () => {
    const scanned = await pullRequest({ ...LEAK, '.gitleaks.toml': "[allowlist]\npaths = ['.*']\n" });
    expect(scanned.result).toBe('FAILED');
    expect(scanned.comment).toMatch(/changes \.gitleaks\.toml/);
  }, 60_000);

  it('a pull request lowering the severity of the rule it trips still fails', async () => {
    const scanned = await pullRequest({ ...LEAK, '.gatehouse.yml': `${DESTINATION_CONFIG}secrets:\n  severity: { aws-access-key-id: low }\n` });
    expect(scanned.result).toBe('FAILED');
    expect(scanned.annotations).toContainEqual(expect.objectContaining({ path: 'src/leak.js', severity: 'CRITICAL' }));
  }, 60_000);

  it('a pull request suppressing its finding in .gitleaksignore still fails', async () => {
    const scanned = await pullRequest({ ...LEAK, '.gitleaksignore': 'src/leak.js:aws-access-key-id:1\n' });
    expect(scanned.result).toBe('FAILED');
    expect(scanned.comment).toMatch(/changes \.gitleaksignore/);
  }, 60_000);

  it('the configuration change itself is scanned: a secret in the new .gatehouse.yml is reported', async () => {
    const scanned = await pullRequest({ '.gatehouse.yml': `ignorePaths: ["**"]\n# aws: ${AWS_KEY}\n` });
    expect(scanned.result).toBe('FAILED');
    expect(scanned.annotations).toContainEqual(expect.objectContaining({ path: '.gatehouse.yml', line: 2, result: 'FAILED' }));
  }, 60_000);

  it('a pull request from a fork is judged by the destination repository configuration', async () => {
    const ignored = await pullRequest({ 'fixtures/key.js': `module.exports = "${AWS_KEY}";\n` }, true);
    expect(ignored.result).toBe('PASSED');
    const scanned = await pullRequest({ ...LEAK, '.gatehouse.yml': 'ignorePaths: ["**"]\n' }, true);
    expect(scanned.result).toBe('FAILED');
    expect(scanned.comment).toMatch(NOTE);
    expect(sim.violations).toEqual([]);
  }, 60_000);

  it('a destination .gitleaks.toml rule that backtracks for minutes on JavaScript still gets the pull request answered', async () => {
    const toml = "[[rules]]\nid = 'backtracker'\ndescription = 'Backtracker'\nregex = '''(a|a)+$'''\n";
    await sim.createRepository('acme', 'patterns', { files: { 'README.md': '# patterns\n', '.gitleaks.toml': toml } });
    await sim.createBranch('acme/patterns', 'slow');
    await sim.commit('acme/patterns', 'slow', { 'src/leak.js': `module.exports = "${AWS_KEY}";\n// ${'a'.repeat(28)}b\n` }, 'Slow');
    const { id } = await sim.openPullRequest('acme/patterns', { source: 'slow', title: 'slow' });
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);
    const pr = sim.pullRequest('acme/patterns', id);
    const report = sim.repository('acme/patterns').reports.get(pr.sourceHash)?.find((r) => r.externalId === 'gatehouse-security');
    expect(report?.body.result).toBe('FAILED');
    expect(report?.annotations.map((a) => [a.body.path, a.body.line])).toEqual([['src/leak.js', 1]]);
  }, 60_000);

  it('a destination rule description with a URL and a mention reaches the comment and report inert', async () => {
    const toml = "[[rules]]\nid = 'acme-token'\ndescription = 'ACME token, see https://evil.example/x and ask @{557058:abc}'\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = ['acme_']\n";
    await sim.createRepository('acme', 'described', { files: { 'README.md': '# described\n', '.gitleaks.toml': toml } });
    await sim.createBranch('acme/described', 'token');
    await sim.commit('acme/described', 'token', { 'src/token.js': 'module.exports = "acme_q7z2k9m4p8v3x6w1";\n' }, 'Token');
    const { id } = await sim.openPullRequest('acme/described', { source: 'token', title: 'token' });
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);
    const pr = sim.pullRequest('acme/described', id);
    const comment = pr.comments[0]?.raw ?? '';
    expect(comment).toContain('evil.example/x');
    const report = sim.repository('acme/described').reports.get(pr.sourceHash)?.find((r) => r.externalId === 'gatehouse-security');
    expect(report?.annotations).toHaveLength(1);
    for (const text of [comment, JSON.stringify(report?.body), JSON.stringify(report?.annotations.map((a) => a.body))]) {
      expect(text).not.toContain('https://evil.example');
      expect(text).not.toContain('@{557058');
    }
  }, 60_000);

  it('a push still reads the configuration at the pushed commit', async () => {
    await sim.createBranch('acme/api', 'pushed');
    const head = await sim.commit('acme/api', 'pushed', { ...LEAK, '.gatehouse.yml': 'ignorePaths: ["src/**"]\n' }, 'Ignore src');
    await app.settle();
    const report = sim.repository('acme/api').reports.get(head)?.find((r) => r.externalId === 'gatehouse-push');
    expect(report?.body.result).toBe('PASSED');
  }, 60_000);
});
