// What a pre-commit hook pays on every commit: a fresh `gatehouse` process, as the
// `gatehouse` command runs it (bin/gatehouse.js, compiled dist/), timed from spawn to
// exit like hyperfine does: `--version`, `--help`, and `scan` of three small files,
// against a bare `node -e 0` measured in the same loop (what no Node CLI can go under).
// Runs are interleaved so that a burst of load on the machine hits every command alike.
// Prints median and p95 per command. Target (issue #11): under 150 ms.
// Run: npm run bench -- cli-startup   (STARTUP_RUNS=N per command; default 40)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.STARTUP_RUNS ?? 40);
const WARMUP = 3;
const BIN = path.join(root, 'bin/gatehouse.js');

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-startup-'));
try {
  writeFileSync(path.join(dir, 'index.js'), "import { handler } from './handler.js';\nexport default handler;\n");
  writeFileSync(path.join(dir, 'handler.js'), 'export function handler(event) {\n  return { status: 200, body: JSON.stringify(event) };\n}\n');
  writeFileSync(path.join(dir, 'settings.py'), "DEBUG = False\nALLOWED_HOSTS = ['example.org']\nTIME_ZONE = 'UTC'\n");

  const commands: Record<string, string[]> = {
    'node -e 0 (baseline)': ['-e', '0'],
    'gatehouse --version': [BIN, '--version'],
    'gatehouse --help': [BIN, '--help'],
    'gatehouse scan (3 small files)': [BIN, 'scan', 'index.js', 'handler.js', 'settings.py'],
  };
  // The compiled CLI is what is measured: a stale dist/ is rebuilt before, not during, the runs.
  spawnSync(process.execPath, [path.join(root, 'scripts/build.js'), '--if-stale'], { stdio: 'inherit' });
  const env = { PATH: process.env.PATH, DATA_DIR: path.join(dir, 'data') };
  const times = new Map<string, number[]>(Object.keys(commands).map((name) => [name, []]));
  for (let run = 0; run < WARMUP + RUNS; run++) {
    for (const [name, args] of Object.entries(commands)) {
      const start = process.hrtime.bigint();
      const result = spawnSync(process.execPath, args, { cwd: dir, env, stdio: 'ignore' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
      if (run >= WARMUP) times.get(name)!.push(ms);
    }
  }
  const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
  console.log(`${RUNS} runs per command after ${WARMUP} warm-up rounds; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const [name, xs] of times) {
    console.log(`${name.padEnd(32)} median ${quantile(xs, 0.5).toFixed(0).padStart(4)} ms   p95 ${quantile(xs, 0.95).toFixed(0).padStart(4)} ms   min ${Math.min(...xs).toFixed(0).padStart(4)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
