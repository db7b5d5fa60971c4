import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretScanner } from '../src/scan/secrets/engine.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import type { SecretFinding } from '../src/scan/types.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

// Issue 10 item 10: sha256(secret), and fingerprints built from it, let anyone holding them
// (a copy of DATA_DIR, a SARIF file, a panel) confirm a guessed weak secret offline. What
// Gatehouse stores and publishes is keyed per installation; marks made before keep working.

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** What anyone can compute for a guess: the engine's unkeyed digests. */
const [unkeyed] = new SecretScanner().scanText('cfg.py', `KEY = "${KEY}"\n`);

describe('secret fingerprints are keyed per installation', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('fingerprints', { workspaces: ['acme', 'beta'] }));
    await sim.createRepository('acme', 'svc');
    await sim.createRepository('beta', 'svc');
  });
  afterAll(async () => stop?.());

  async function pushSecret(workspace: string, files: Record<string, string>): Promise<(SecretFinding & { triage?: { status: string; reason: string } })[]> {
    const fullName = `${workspace}/svc`;
    const commit = await sim.commit(fullName, 'main', files, 'Config');
    await app.settle();
    const repo = sim.repository(fullName);
    const scan = await app.results.getScan(sim.installation(workspace)!.clientKey, repo.uuid, commit, 'push');
    return scan!.findings.flatMap((f) => (f.kind === 'secret' ? [f] : []));
  }

  it('nothing stored or published can be checked against a guess; each installation has its own fingerprints, stable within it', async () => {
    expect(unkeyed).toBeDefined();
    const [acme] = await pushSecret('acme', { 'cfg.py': `KEY = "${KEY}"\n` });
    const [beta] = await pushSecret('beta', { 'cfg.py': `KEY = "${KEY}"\n` });
    expect(acme?.ruleId).toBe(unkeyed!.ruleId);
    for (const finding of [acme!, beta!]) {
      expect(finding.secretHash).not.toBe(sha256(KEY));
      expect(finding.fingerprint).not.toBe(unkeyed!.fingerprint);
    }
    expect(acme!.fingerprint).not.toBe(beta!.fingerprint);
    expect(acme!.secretHash).not.toBe(beta!.secretHash);

    // Published: the report's annotations name neither digest.
    const repo = sim.repository('acme/svc');
    const published = JSON.stringify([...repo.reports.values()]);
    for (const digest of [sha256(KEY), unkeyed!.fingerprint, unkeyed!.secretHash]) expect(published).not.toContain(digest);

    // Stable within the installation: the same secret on another line keeps its fingerprint.
    const [moved] = await pushSecret('acme', { 'cfg.py': `# moved down\n\nKEY = "${KEY}"  # same key\n` });
    expect(moved?.line).toBe(3);
    expect(moved?.fingerprint).toBe(acme!.fingerprint);
  });

  it('a triage mark stored in the old (unkeyed) form still applies, and is moved to the keyed fingerprint', async () => {
    const { clientKey } = sim.installation('acme')!;
    const repo = sim.repository('acme/svc');
    // The store as an older Gatehouse wrote it: the mark holds the unkeyed fingerprint.
    await app.results.putTriage({ clientKey, repoUuid: repo.uuid, fingerprint: unkeyed!.fingerprint, status: 'false_positive', by: '{u}', at: new Date().toISOString(), reason: 'test key' });
    const [finding] = await pushSecret('acme', { 'cfg.py': `KEY = "${KEY}"  # again\n` });
    expect(finding?.triage).toMatchObject({ status: 'false_positive', reason: 'test key' });
    const marks = await app.results.listTriage(clientKey, repo.uuid);
    expect(marks.map((m) => m.fingerprint)).toEqual([finding!.fingerprint]);
  });

  it('.gitleaksignore entries work in both forms: the unkeyed fingerprint and the published keyed one', async () => {
    const [published] = await pushSecret('beta', { 'other.py': `K = "${KEY}"\n` });
    const [stillThere, ...rest] = await pushSecret('beta', { '.gitleaksignore': `${published!.fingerprint}\n`, 'other.py': `K = "${KEY}"  # 2\n`, 'cfg.py': `KEY = "${KEY}"  # 2\n` });
    expect([stillThere?.path, rest]).toEqual(['cfg.py', []]);
    const ignores = `${published!.fingerprint}\n${unkeyed!.fingerprint}\n`;
    const none = await pushSecret('beta', { '.gitleaksignore': ignores, 'other.py': `K = "${KEY}"  # 3\n`, 'cfg.py': `KEY = "${KEY}"  # 3\n` });
    expect(none).toEqual([]);
  });
});
