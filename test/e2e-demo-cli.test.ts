import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run demo` as a process: argument handling, and --keep holding both servers until SIGINT.
const DEMO = path.resolve('src/simulator/demo.ts');

interface Child {
  output(): string;
  errors(): string;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => stdout,
    errors: () => stderr,
    exit,
    kill: (signal) => child.kill(signal),
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = stdout.match(pattern);
          if (m) resolve(m);
          else waiters.push(check);
        };
        void exit.then(() => reject(new Error(`demo exited before printing ${pattern}:\n${stdout}\n${stderr}`)));
        check();
      });
    },
  };
}

describe('npm run demo (process)', () => {
  it('prints usage for --help and refuses unknown arguments with exit 2', async () => {
    const help = start(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.output()).toContain('Usage: npm run demo [-- --keep]');

    const bad = start(['--kep']);
    expect(await bad.exit).toBe(2);
    expect(bad.errors()).toContain('demo: unknown argument --kep');
  }, 60_000);

  it('--keep leaves the host page up until Ctrl-C, then exits 0 and removes its DATA_DIR', async () => {
    const demo = start(['--keep']);
    const [, dataDir] = await demo.waitFor(/\(DATA_DIR (\S+)\)/);
    const [, hostPage] = await demo.waitFor(/Host page: (\S+)/);
    await demo.waitFor(/press Ctrl-C to stop/);
    const page = await fetch(hostPage!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Gatehouse: 4 new findings');

    demo.kill('SIGINT');
    expect(await demo.exit).toBe(0);
    await expect(fetch(hostPage!)).rejects.toThrow();
    expect(existsSync(dataDir!)).toBe(false);
  }, 90_000);
});
