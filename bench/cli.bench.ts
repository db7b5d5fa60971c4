// The CLI as people run it, against secretlint, on real code nobody wrote for the rules:
//  - npm packages: the published sources of several packages copied out of node_modules
//    (TypeScript's compiler, ESLint, lodash, moment, Babel, the MongoDB driver...);
//  - the Python standard library of this machine (/usr/lib/python3.*).
// Each corpus is a plain copy (no node_modules, __pycache__ or symbolic links inside), so
// both tools see the same files. `node bin/gatehouse.js scan DIR --format json` (the
// compiled CLI, as `gatehouse` runs) and `secretlint "**/*"` (the recommend preset, JSON
// report) run alternately, a round each, and the bench prints per tool the median wall
// time, CPU time (user + system, threads included), files/s, MB/s and findings, then the
// ratio. CPU time matters on a busy machine, where wall time mostly measures the queue.
// Run: npm run bench -- cli.bench   (CLI_BENCH_ROUNDS=N for more rounds; default 2;
// CLI_BENCH_CORPUS=npm or python for one corpus: under load secretlint takes minutes a round)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './percentile.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.CLI_BENCH_ROUNDS ?? 2);
const MB = 1 << 20;
const NPM_PACKAGES = ['typescript', 'eslint', 'lodash', 'moment', '@babel', 'mongodb', 'ajv', 'express4', 'sequelize', 'yaml'];
/** Directories no user would scan as their own code; both tools skip node_modules by default anyway. */
const LEFT_OUT = new Set(['node_modules', '__pycache__', 'site-packages', 'dist-packages']);


interface Corpus {
  name: string;
  dir: string;
  files: number;
  bytes: number;
}

function copyTree(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    filter: (source) => {
      const info = lstatSync(source);
      return !info.isSymbolicLink() && !(info.isDirectory() && LEFT_OUT.has(path.basename(source)));
    },
  });
}

function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

/** A corpus with the secretlint configuration a user's project would have (both tools scan it). */
function corpusAt(name: string, dir: string): Corpus {
  writeFileSync(path.join(dir, '.secretlintrc.json'), JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
  return { name, dir, ...measure(dir) };
}

function buildCorpora(base: string): Corpus[] {
  const corpora: Corpus[] = [];
  const npm = path.join(base, 'npm-packages');
  const present = NPM_PACKAGES.filter((p) => existsSync(path.join(root, 'node_modules', p)));
  for (const p of present) copyTree(path.join(root, 'node_modules', p), path.join(npm, p));
  if (present.length > 0) corpora.push(corpusAt(`npm packages (${present.join(', ')})`, npm));

  const python = readdirSync('/usr/lib', { withFileTypes: true }).find((e) => e.isDirectory() && /^python3\.\d+$/.test(e.name));
  if (python) {
    const dir = path.join(base, 'python-stdlib');
    copyTree(path.join('/usr/lib', python.name), dir);
    corpora.push(corpusAt(`Python standard library (/usr/lib/${python.name})`, dir));
  } else {
    console.log('note: no /usr/lib/python3.* on this machine; the Python corpus is left out');
  }
  return corpora;
}

interface Run {
  wallMs: number;
  cpuMs: number | undefined;
  findings: number;
}

/**
 * Runs a command through bash so that `times` can report its CPU time (Node cannot read a
 * child's resource usage); stdout goes to `stdoutFile`. Standard input is /dev/null: on a
 * socket (what a Node 'pipe' is), Debian's bash takes itself for an rsh/ssh session and
 * sources ~/.bashrc, whose start-up (pyenv's, on these machines: 0.3-0.6 s) both tools'
 * times would carry.
 */
function timed(command: string[], cwd: string, stdoutFile: string, env: NodeJS.ProcessEnv = process.env): { wallMs: number; cpuMs: number | undefined; status: number | null; stderr: string } {
  const script = '"$@" > "$OUT"; status=$?; times >&2; exit $status';
  const start = process.hrtime.bigint();
  const run = spawnSync('bash', ['-c', script, 'bash', ...command], { cwd, env: { ...env, OUT: stdoutFile }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.567s".
  const children = run.stderr.trim().split('\n').at(-1)?.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
  const cpuMs = children ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1000 : undefined;
  return { wallMs, cpuMs, status: run.status, stderr: run.stderr };
}

function secretlint(corpus: Corpus, report: string): Run {
  const run = timed([path.join(root, 'node_modules/.bin/secretlint'), '**/*', '--format', 'json', '--output', report], corpus.dir, '/dev/null');
  if (run.status !== 0 && run.status !== 1) throw new Error(`secretlint exited ${run.status}: ${run.stderr.split('\n')[0]}`);
  const results = JSON.parse(readFileSync(report, 'utf8')) as { messages: unknown[] }[];
  return { wallMs: run.wallMs, cpuMs: run.cpuMs, findings: results.reduce((n, r) => n + r.messages.length, 0) };
}

function gatehouse(corpus: Corpus, out: string, dataDir: string): Run {
  const run = timed([process.execPath, path.join(root, 'bin/gatehouse.js'), 'scan', corpus.dir, '--format', 'json'], corpus.dir, out, { PATH: process.env.PATH, DATA_DIR: dataDir });
  if (run.status !== 0 && run.status !== 1) throw new Error(`gatehouse scan exited ${run.status}: ${run.stderr.trim().split('\n')[0]}`);
  const { findings } = JSON.parse(readFileSync(out, 'utf8')) as { findings: { kind: string }[] };
  return { wallMs: run.wallMs, cpuMs: run.cpuMs, findings: findings.filter((f) => f.kind === 'secret').length };
}

// The compiled CLI is what users run; build it now so that no round pays for a rebuild.
spawnSync(process.execPath, [path.join(root, 'scripts/build.js'), '--if-stale'], { stdio: 'inherit' });

const base = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-cli-'));
try {
  const dataDir = path.join(base, 'data');
  const only = process.env.CLI_BENCH_CORPUS?.toLowerCase();
  const corpora = buildCorpora(path.join(base, 'corpora')).filter((c) => !only || c.name.toLowerCase().includes(only));
  console.log(`${availableParallelism()} cores; ${ROUNDS} rounds per corpus, secretlint and gatehouse alternating; load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const corpus of corpora) {
    console.log(`\n${corpus.name}: ${corpus.files} files, ${(corpus.bytes / MB).toFixed(1)} MB`);
    const runs: Record<'secretlint' | 'gatehouse', Run[]> = { secretlint: [], gatehouse: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const a = secretlint(corpus, path.join(base, 'secretlint.json'));
      const b = gatehouse(corpus, path.join(base, 'gatehouse.json'), dataDir);
      runs.secretlint.push(a);
      runs.gatehouse.push(b);
      console.log(`  round ${round + 1}: secretlint ${a.wallMs.toFixed(0)} ms, gatehouse ${b.wallMs.toFixed(0)} ms`);
    }
    const line = (label: string, list: Run[]) => {
      const wall = median(list.map((r) => r.wallMs));
      const cpu = list.every((r) => r.cpuMs !== undefined) ? median(list.map((r) => r.cpuMs!)) : undefined;
      console.log(
        `  ${label.padEnd(11)} wall ${wall.toFixed(0).padStart(6)} ms (${(corpus.files / (wall / 1000)).toFixed(0)} files/s, ${(corpus.bytes / MB / (wall / 1000)).toFixed(1)} MB/s)` +
          `${cpu === undefined ? '' : `, CPU ${cpu.toFixed(0)} ms`}, ${list.at(-1)!.findings} findings`,
      );
      return { wall, cpu };
    };
    const sl = line('secretlint', runs.secretlint);
    const gh = line('gatehouse', runs.gatehouse);
    console.log(`  ratio: gatehouse ${(sl.wall / gh.wall).toFixed(1)}x secretlint in wall time${sl.cpu && gh.cpu ? `, ${(sl.cpu / gh.cpu).toFixed(1)}x in CPU time` : ''}`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
