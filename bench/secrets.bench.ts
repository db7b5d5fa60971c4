// Secret engine benchmark, on a generated 20 MB corpus of source and configuration files:
//  1. engine alone, in process, one core: MB/s (median of several passes) and peak RSS;
//  2. recall and false positives against the corpus manifest (planted secrets, decoys);
//  3. secretlint 11 CLI (recommend preset) vs `gatehouse scan --format json` over the same
//     directory, alternating A B A B A B, or vs the engine in process when the CLI cannot
//     run yet (said so in the output).
// Run: node --import tsx bench/secrets.bench.ts [MB]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretScanner } from '../src/scan/secrets/engine.ts';
import type { SecretFinding } from '../src/scan/types.ts';
import { generateCorpus, readCorpusFiles } from './corpus.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1 << 20;
const corpusMb = Number(process.argv[2] ?? 20);
const PASSES = 7;
const ROUNDS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMb = () => process.resourceUsage().maxRSS / 1024;

const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-secrets-'));
try {
  const corpus = await generateCorpus(dir, corpusMb * MB, 1);
  const files = await readCorpusFiles(dir);
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  console.log(`corpus: ${files.length} files, ${(bytes / MB).toFixed(1)} MB, ${corpus.planted.length} planted secrets, ${corpus.decoys} decoys`);

  // 1. Engine alone.
  const scanner = new SecretScanner();
  const rssBefore = rssMb();
  let findings: SecretFinding[] = [];
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    const out: SecretFinding[] = [];
    for (const f of files) if (!scanner.shouldSkipPath(f.path)) out.push(...scanner.scanText(f.path, f.text));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = process.cpuUsage(cpuStart);
    if (pass > 0) {
      // pass 0 warms the JIT
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    findings = out;
  }
  const engineMs = median(times);
  console.log(
    `engine: ${scanner.ruleIds.length} rules, median ${engineMs.toFixed(0)} ms per pass -> ${(bytes / MB / (engineMs / 1000)).toFixed(0)} MB/s on one core ` +
      `(min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms over ${PASSES} passes)`,
  );
  const cpuMs = median(cpuTimes);
  console.log(`engine CPU time: median ${cpuMs.toFixed(0)} ms per pass -> ${(bytes / MB / (cpuMs / 1000)).toFixed(0)} MB/s of CPU (less sensitive to a busy machine)`);
  console.log(`peak RSS: ${rssMb().toFixed(0)} MB (before scanning, corpus loaded: ${rssBefore.toFixed(0)} MB)`);

  // 2. Recall and false positives.
  const at = (p: string, l: number) => `${p}:${l}`;
  const found = new Set(findings.map((f) => at(f.path, f.line)));
  const plantedAt = new Set(corpus.planted.map((p) => at(p.path, p.line)));
  const missed = corpus.planted.filter((p) => !found.has(at(p.path, p.line)));
  const falsePositives = findings.filter((f) => !plantedAt.has(at(f.path, f.line)));
  console.log(`recall: ${corpus.planted.length - missed.length}/${corpus.planted.length}${missed.length ? ` (missed: ${missed.map((m) => m.family).join(', ')})` : ''}`);
  console.log(`false positives: ${falsePositives.length}${falsePositives.length ? ` (${falsePositives.slice(0, 5).map((f) => `${f.ruleId} ${f.path}:${f.line}`).join('; ')})` : ''}`);

  // 3. secretlint vs gatehouse, alternating.
  await writeFile(path.join(dir, '.secretlintrc.json'), JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
  // secretlint's JSON report embeds every file's content, so it goes to a file, not a pipe.
  const report = path.join(path.dirname(dir), `${path.basename(dir)}-secretlint.json`);
  const secretlint = () => {
    const start = process.hrtime.bigint();
    const run = spawnSync(path.join(root, 'node_modules/.bin/secretlint'), ['**/*', '--format', 'json', '--output', report], { cwd: dir, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0 && run.status !== 1) throw new Error(`secretlint exited ${run.status}: ${run.stderr.split('\n')[0]}`);
    const results = JSON.parse(readFileSync(report, 'utf8')) as { filePath: string; messages: { loc: { start: { line: number } } }[] }[];
    const located = results.flatMap((r) => r.messages.map((m) => at(path.relative(dir, r.filePath).split(path.sep).join('/'), m.loc.start.line)));
    return { ms, reported: located.length, located };
  };
  const cli = () => {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin/gatehouse.js'), 'scan', dir, '--format', 'json'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0 && run.status !== 1) throw new Error(`gatehouse scan exited ${run.status}: ${run.stderr.trim().split('\n')[0]}`);
    const secrets = (JSON.parse(run.stdout) as { findings: { kind: string; path: string; line: number }[] }).findings.filter((f) => f.kind === 'secret');
    return { ms, reported: secrets.length, located: secrets.map((f) => at(f.path, f.line)) };
  };
  const inProcess = () => {
    const start = process.hrtime.bigint();
    const located: string[] = [];
    for (const f of files) if (!scanner.shouldSkipPath(f.path)) located.push(...scanner.scanText(f.path, f.text).map((x) => at(x.path, x.line)));
    return { ms: Number(process.hrtime.bigint() - start) / 1e6, reported: located.length, located };
  };

  let gatehouse: { label: string; run: () => { ms: number; reported: number; located: string[] } } = { label: 'gatehouse scan (CLI)', run: cli };
  try {
    cli();
  } catch (error) {
    console.log(`note: the CLI cannot run yet (${(error as Error).message}); comparing secretlint with the engine in process instead`);
    gatehouse = { label: 'gatehouse engine (in process)', run: inProcess };
  }

  const a: number[] = [];
  const b: number[] = [];
  let aLocated: string[] = [];
  let bLocated: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const sl = secretlint();
    a.push(sl.ms);
    aLocated = sl.located;
    const gh = gatehouse.run();
    b.push(gh.ms);
    bLocated = gh.located;
    console.log(`  round ${round + 1}: secretlint ${sl.ms.toFixed(0)} ms, ${gatehouse.label} ${gh.ms.toFixed(0)} ms`);
  }
  const mbps = (ms: number) => (bytes / MB / (ms / 1000)).toFixed(1);
  const quality = (located: string[]) => {
    const hits = new Set(located);
    const recalled = corpus.planted.filter((p) => hits.has(at(p.path, p.line))).length;
    return `${located.length} findings, recall ${recalled}/${corpus.planted.length}, ${located.filter((l) => !plantedAt.has(l)).length} elsewhere`;
  };
  console.log(`secretlint 11 (recommend preset): median ${median(a).toFixed(0)} ms -> ${mbps(median(a))} MB/s; ${quality(aLocated)}`);
  console.log(`${gatehouse.label}: median ${median(b).toFixed(0)} ms -> ${mbps(median(b))} MB/s; ${quality(bLocated)}`);
  console.log(`ratio: gatehouse is ${(median(a) / median(b)).toFixed(1)}x secretlint's throughput`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}-secretlint.json`, { force: true });
}
