// Forge front door benchmark: a pull-request event to the published Code Insights report for a
// 2,000-line diff with one secret, on the local Forge (FIT-signed Forge event, system token)
// and on Connect (JWT-signed webhook), in the same run against the same app: one server with
// both front doors, the Forge app installed in one workspace and the Connect app in another,
// runs interleaved so load on the machine hits both alike. Target: Forge within 1.2x of Connect.
// Run: node --import tsx bench/forge.bench.ts   (BENCH_RUNS to resize)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPORT_ID } from '../src/core/publish.ts';
import { startForgeSession } from '../src/simulator/forge/session.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { percentile } from './percentile.ts';
import { leakyDiffFile } from './leaky-diff.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);

/** Opens a pull request with the diff and waits for its report with annotations; milliseconds. */
async function once(sim: Simulator, repository: string, run: number): Promise<number> {
  const branch = `change-${run}`;
  await sim.createBranch(repository, branch);
  await sim.commit(repository, branch, { [`src/generated${run}.js`]: leakyDiffFile(run) }, 'Two thousand lines');
  // Let the push scan of the new branch finish first: it is not what is measured.
  await new Promise((r) => setTimeout(r, 1500));
  const started = performance.now();
  const { id } = await sim.openPullRequest(repository, { source: branch, title: `Run ${run}` });
  const head = sim.pullRequest(repository, id).sourceHash;
  const repo = sim.repository(repository);
  while (!repo.reports.get(head)?.find((r) => r.externalId === REPORT_ID)?.annotations.length) {
    if (performance.now() - started > 60_000) throw new Error(`no report on ${repository} #${id} after 60 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - started;
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-forge-'));
const session = await startForgeSession({ dataDir, workspace: 'forge', logLevel: 'error', retryDelayMs: 0 });
try {
  const { sim } = session;
  await sim.install({ workspace: 'connect' });
  await sim.createRepository('forge', 'svc', { files: { 'README.md': 'bench\n' } });
  await sim.createRepository('connect', 'svc', { files: { 'README.md': 'bench\n' } });
  const forge: number[] = [];
  const connect: number[] = [];
  // Run 0 of each warms the JIT and the rule automaton; it is not counted.
  for (let run = 0; run <= RUNS; run++) {
    const f = await once(sim, 'forge/svc', run);
    const c = await once(sim, 'connect/svc', run);
    if (run > 0) {
      forge.push(f);
      connect.push(c);
    }
  }
  forge.sort((a, b) => a - b);
  connect.sort((a, b) => a - b);
  const line = (name: string, xs: number[]) => `${name.padEnd(8)} p50 ${percentile(xs, 50).toFixed(0)} ms, p95 ${percentile(xs, 95).toFixed(0)} ms, max ${xs.at(-1)!.toFixed(0)} ms`;
  console.log(`pull-request event -> Code Insights report with annotations, 2,000-line diff, ${RUNS} runs each, interleaved:`);
  console.log(`  ${line('Connect', connect)}`);
  console.log(`  ${line('Forge', forge)}`);
  console.log(`  Forge / Connect at p50: ${(percentile(forge, 50) / percentile(connect, 50)).toFixed(2)}x (target <= 1.2x)`);
  if (sim.violations.length > 0) console.log(`  ${sim.violations.length} request(s) Bitbucket would refuse: ${sim.violations[0]!.reason}`);
} finally {
  await session.stop();
  await rm(dataDir, { recursive: true, force: true });
}
