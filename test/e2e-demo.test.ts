import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoTimeoutError, describePublished, runDemo, type DemoRun } from '../src/simulator/demo.ts';

// The demo's own flow, in process: the real app with its job pipeline, the simulator, the OSV
// mirror and the pull request that leaks a key pair and pins vulnerable packages.
describe('npm run demo', () => {
  let run: DemoRun;
  const logged: string[] = [];

  beforeAll(async () => {
    run = await runDemo({ timeoutMs: 60_000, log: (line) => logged.push(line) });
  }, 90_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('publishes a failing Code Insights report with the secret and the vulnerable packages as annotations', () => {
    const { report } = run.published;
    expect(report.body).toMatchObject({ title: 'Gatehouse security', report_type: 'SECURITY', result: 'FAILED' });
    const annotations = report.annotations.map((a) => a.body);
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'config/deploy.env', line: 3, severity: 'CRITICAL' }));
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'config/deploy.env', line: 4, severity: 'CRITICAL' }));
    const advisories = annotations.filter((a) => a.path === 'package-lock.json').map((a) => String(a.title));
    expect(advisories.sort()).toEqual(['lodash 4.17.20: GHSA-29mw-wpgm-hmr9', 'lodash 4.17.20: GHSA-35jh-r3h4-6jhm', 'minimist 1.2.5: GHSA-xvch-5gv4-984h']);
  });

  it('fails the build status and explains the verdict in a pull request comment', () => {
    const { buildStatus, comment } = run.published;
    expect(buildStatus.body).toMatchObject({ state: 'FAILED', url: run.hostPageUrl });
    expect(comment.raw).toMatch(/^\*\*Gatehouse: 4 new findings at high or above block this pull request\.\*\*/);
    expect(comment.raw).toContain('minimist 1.2.5: GHSA-xvch-5gv4-984h, fixed in 1.2.6');
  });

  it('never publishes the leaked key pair, only masked previews', () => {
    const everything = JSON.stringify([run.published, run.session.sim.repository(run.repository).reports.get(run.published.commit)]);
    expect(everything).not.toContain(run.leaked.accessKeyId);
    expect(everything).not.toContain(run.leaked.secretAccessKey);
    expect(everything).toContain(`${run.leaked.accessKeyId.slice(0, 2)}****`);
  });

  it('prints what was published and the host page, which shows the pull request with the results', async () => {
    expect(logged.some((l) => /^OSV\s+npm 3 advisories, PyPI 1 advisory/.test(l))).toBe(true);
    const printed = describePublished(run).join('\n');
    expect(printed).toMatch(/Code Insights report\s+Gatehouse security: FAILED \(Critical 3, High 1, Medium 1, New findings 5\)/);
    expect(printed).toMatch(/Annotations\s+5 \(3 CRITICAL, 1 HIGH, 1 MEDIUM\)/);
    expect(printed).toMatch(/Build status\s+FAILED: /);
    expect(printed).toContain('| **Gatehouse: 4 new findings');
    expect(printed).toContain(`Host page: ${run.hostPageUrl}`);

    const page = await fetch(run.hostPageUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Nightly export of settled payments to S3');
    expect(html).toContain('GHSA-xvch-5gv4-984h');
    expect(html).toContain('Gatehouse: 4 new findings');
    expect(html).toMatch(/<iframe class="ap-panel" src="http:\/\/127\.0\.0\.1:\d+\/[^"]*jwt=/);
  });

  it('made no request Bitbucket would refuse, and stop() removes the temporary DATA_DIR', async () => {
    expect(run.session.sim.violations).toEqual([]);
    expect(existsSync(run.dataDir)).toBe(true);
    await run.stop();
    expect(existsSync(run.dataDir)).toBe(false);
  });
});

describe('npm run demo when the app cannot publish', () => {
  it('gives up at the deadline and says what is missing', async () => {
    // Every comment POST fails, so the comment can never arrive.
    const failure = runDemo({ timeoutMs: 5_000, faults: [{ pathPattern: /\/pullrequests\/\d+\/comments$/, method: 'POST', count: 10_000, kind: '500' }] });
    const error = await failure.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DemoTimeoutError);
    const { missing, hints } = error as DemoTimeoutError;
    expect(missing).toContain('a comment on pull request #1');
    expect(hints.length).toBeGreaterThan(0);
  }, 90_000);
});
