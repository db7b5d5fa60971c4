import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The real server as a separate process, for tests that kill it (SIGKILL) mid-work and
 * start it again: the simulated Bitbucket stays in the test's process, so it keeps every
 * publication across the restarts.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** A port free at the time of asking (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServerProcessOptions {
  port: number;
  env: NodeJS.ProcessEnv;
  /** `src` runs src/server.ts through tsx; `dist` runs dist/server.js, what `npm start` runs. */
  entry: 'src' | 'dist';
  /** Show the server's stdout (its log) when set, e.g. from an env var that asks for it. */
  showLog?: boolean;
  /** Told every line of the server's stdout (its log), for tests that read what it logged. */
  onLog?: (line: string) => void;
}

/** Starts the server with exactly `env` (plus PORT); see waitHealthy. */
export function spawnServer(o: ServerProcessOptions): ChildProcess {
  const args = o.entry === 'src' ? ['--import', 'tsx', 'src/server.ts'] : ['dist/server.js'];
  const stdout = o.onLog ? 'pipe' : o.showLog ? 'inherit' : 'ignore';
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...o.env, PORT: String(o.port) }, stdio: ['ignore', stdout, 'inherit'] });
  if (o.onLog && proc.stdout) createInterface({ input: proc.stdout }).on('line', o.onLog);
  return proc;
}

/** Starts the server and resolves once /healthz answers 200. */
export async function startServerProcess(o: ServerProcessOptions): Promise<ChildProcess> {
  const proc = spawnServer(o);
  await waitHealthy(o.port, proc);
  return proc;
}

export async function waitHealthy(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return;
    if (proc.exitCode !== null) throw new Error(`server on port ${port} exited ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on port ${port} did not start`);
}

/** kill -9, resolved once the process is gone. */
export async function kill9(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

/**
 * The environment of a server process pointed at a simulated Bitbucket: only what it needs
 * (no inherited secrets or config), with LOG_LEVEL 'error' unless `logLevel` asks for more.
 */
export function simulatedBitbucketEnv(o: {
  baseUrl: string;
  dataDir: string;
  encryptionKey: string;
  sim: { webOrigin: string; apiOrigin: string };
  logLevel?: string;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BASE_URL: o.baseUrl,
    DATA_DIR: o.dataDir,
    ENCRYPTION_KEY: o.encryptionKey,
    BITBUCKET_BASE_URLS: o.sim.webOrigin,
    BITBUCKET_API_URLS: o.sim.apiOrigin,
    LOG_LEVEL: o.logLevel ?? 'error',
  };
}
