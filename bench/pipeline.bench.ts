// Pipeline benchmark: the app (in-process, real LowdbStore and results journal in a temp
// DATA_DIR, worker pool) against the local Bitbucket simulator, everything on loopback.
//   1. Latency: pull-request webhook to the Code Insights report on the simulator, for a
//      2,000-line diff with one secret; p50/p95 over several runs (target < 1 s).
//   2. Throughput: 200 pull requests across 20 installations queued while the worker pool
//      is stopped, then drained: jobs per second and peak memory (RSS of this process,
//      which holds the simulator and its git processes' parent too).
// Run: node --import tsx bench/pipeline.bench.ts   (BENCH_RUNS, BENCH_PRS, BENCH_TENANTS to resize)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSimulator } from '../src/simulator/simulator.ts';
import { startPipelineApp } from '../test/helpers/pipeline-app.ts';
import { percentile } from './percentile.ts';
import { leakyDiffFile } from './leaky-diff.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PRS = Number(process.env.BENCH_PRS ?? 200);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-pipeline-'));
const app = await startPipelineApp({ dataDir, tuning: { concurrency: CONCURRENCY, pollMs: 5 } });
const sim = await startSimulator({ appBaseUrl: app.baseUrl, retryDelayMs: 0 });
await app.attach({ web: sim.webOrigin, api: sim.apiOrigin });

try {
  // 1. Latency.
  await sim.install();
  await sim.createRepository('acme', 'latency', { files: { 'README.md': 'bench\n' } });
  const latencies: number[] = [];
  for (let run = 0; run < RUNS + 1; run++) {
    const branch = `change-${run}`;
    await sim.createBranch('acme/latency', branch);
    await sim.commit('acme/latency', branch, { [`src/generated${run}.js`]: leakyDiffFile(run) }, 'Two thousand lines');
    await app.settle(60_000);
    const started = performance.now();
    const { id } = await sim.openPullRequest('acme/latency', { source: branch, title: `Run ${run}` });
    const head = sim.pullRequest('acme/latency', id).sourceHash;
    const repo = sim.repository('acme/latency');
    while (!repo.reports.get(head)?.find((r) => r.externalId === 'gatehouse-security')?.annotations.length) {
      await new Promise((r) => setTimeout(r, 2));
    }
    // The first run warms the JIT and the rule automaton; it is not counted.
    if (run > 0) latencies.push(performance.now() - started);
    await app.settle(60_000);
  }
  latencies.sort((a, b) => a - b);
  console.log(`webhook -> Code Insights report, 2,000-line diff, ${RUNS} runs: p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms (target < 1000 ms)`);

  // 2. Throughput.
  const workspaces = Array.from({ length: TENANTS }, (_, i) => `tenant${i}`);
  for (const ws of workspaces) await sim.install({ workspace: ws });
  await app.worker.stop();
  const setupStarted = performance.now();
  const perTenant = Math.ceil(PRS / TENANTS);
  await Promise.all(
    workspaces.map(async (ws, t) => {
      await sim.createRepository(ws, 'svc', { files: { 'README.md': 'svc\n' } });
      for (let i = 0; i < perTenant && t * perTenant + i < PRS; i++) {
        await sim.createBranch(`${ws}/svc`, `pr-${i}`);
        await sim.commit(`${ws}/svc`, `pr-${i}`, { [`src/f${i}.js`]: `export const token = "ghp_R8mQ2vXw7LpK4nZt9YbC3dF6hJ1sA5eG0uVi";\n${'const x = 1;\n'.repeat(200)}` }, 'change');
        await sim.openPullRequest(`${ws}/svc`, { source: `pr-${i}`, title: `PR ${i}` });
      }
    }),
  );
  const queued = (await app.store.listJobs({ status: 'queued' })).length;
  const prJobs = (await app.store.listJobs({ status: 'queued' })).filter((j) => j.type.startsWith('event:pull_request')).length;
  console.log(`queued ${queued} jobs (${prJobs} pull-request scans, the rest push scans) across ${TENANTS} installations in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s of simulator setup`);

  global.gc?.();
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const drainStarted = performance.now();
  app.worker.start();
  const jobs = await app.settle(170_000);
  const seconds = (performance.now() - drainStarted) / 1000;
  clearInterval(sampler);
  const dead = jobs.filter((j) => j.status === 'dead').length;
  console.log(
    `drained ${queued} jobs in ${seconds.toFixed(1)} s with concurrency ${CONCURRENCY}: ${(queued / seconds).toFixed(1)} jobs/s, ${(prJobs / seconds).toFixed(1)} PR scans/s; dead ${dead}; peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB, peak heap ${(peakHeap / 1024 / 1024).toFixed(0)} MB (app and simulator in one process)`,
  );
  if (dead > 0) process.exitCode = 1;
} finally {
  await sim.stop();
  await app.stop();
  await rm(dataDir, { recursive: true, force: true });
}
