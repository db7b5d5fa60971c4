import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatBytes } from '../../bitbucket/errors.ts';

/**
 * A bare, single-branch clone of one repository into a temporary directory, with git itself.
 * The access token travels in an `http.extraHeader` set through git's environment
 * (GIT_CONFIG_COUNT), never on a command line another process could read, and never in a
 * message: git's own error text is cleaned of it before anyone sees it. The clone is as
 * shallow as the scan needs (`--depth` = the commits it will read), its directory is watched
 * against a size bound and the whole clone against a deadline; git is killed when either is
 * passed. The directory is removed whatever happens, and directories a killed server left
 * behind are removed by the next clone.
 */

export interface GitRemote {
  /** https://…/{workspace}/{repo}.git */
  url: string;
  /** The `Authorization` header value, e.g. `Bearer <access token>`. */
  authorization: string;
}

export interface CloneBounds {
  /** Bytes the clone may take on disk. */
  maxBytes: number;
  /** Commits fetched (and later read): the clone's depth. */
  maxCommits: number;
  /** Milliseconds since epoch after which git is stopped. */
  deadline: number;
}

export class CloneError extends Error {
  override name = 'CloneError';
  constructor(
    message: string,
    /** `refused`: the token was not accepted; `bound`: a size or time bound stopped git; `failed`: anything else. */
    readonly kind: 'refused' | 'bound' | 'failed',
  ) {
    super(message);
  }
}

const PREFIX = 'gatehouse-history-';
const WATCH_MS = 250;

/** The environment of every git the history scan runs: nothing from the machine's git configuration, never a prompt. */
export function gitEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    LC_ALL: 'C',
    ...extra,
  };
}

/**
 * Clones `branch` of `remote` and hands the bare repository's path to `work`; the temporary
 * directory is gone when the returned promise settles.
 */
export async function withClone<T>(remote: GitRemote, branch: string, bounds: CloneBounds, work: (gitDir: string, home: string) => Promise<T>, parent = os.tmpdir()): Promise<T> {
  await removeAbandoned(parent);
  const root = await mkdtemp(path.join(parent, `${PREFIX}${process.pid}-`));
  try {
    const gitDir = path.join(root, 'repo.git');
    await clone(remote, branch, bounds, root, gitDir);
    return await work(gitDir, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function clone(remote: GitRemote, branch: string, bounds: CloneBounds, home: string, gitDir: string): Promise<void> {
  const env = gitEnv(home, {
    GIT_CONFIG_COUNT: '3',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: ${remote.authorization}`,
    // The header must not follow a redirect to another host.
    GIT_CONFIG_KEY_1: 'http.followRedirects',
    GIT_CONFIG_VALUE_1: 'false',
    GIT_CONFIG_KEY_2: 'credential.helper',
    GIT_CONFIG_VALUE_2: '',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_ALLOW_PROTOCOL: 'http:https',
  });
  if (Date.now() > bounds.deadline) throw new CloneError('The clone was not started: the time bound had passed; the history was not scanned.', 'bound');
  const args = ['clone', '--bare', '--quiet', '--single-branch', '--no-tags', `--depth=${bounds.maxCommits}`, '--branch', branch, '--', remote.url, gitDir];
  const child = spawn('git', args, { cwd: home, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  let stopped: string | null = null;
  const stop = (why: string) => {
    stopped ??= why;
    child.kill('SIGKILL');
  };
  const watch = setInterval(() => {
    if (Date.now() > bounds.deadline) stop('the time bound');
    else
      void sizeOf(gitDir).then((bytes) => {
        if (bytes > bounds.maxBytes) stop(`the ${formatBytes(bounds.maxBytes)} size bound`);
      });
  }, WATCH_MS);
  try {
    const code = await exited(child);
    // A clone quicker than the watch is measured once more when done.
    if (!stopped && code === 0 && (await sizeOf(gitDir)) > bounds.maxBytes) stopped = `the ${formatBytes(bounds.maxBytes)} size bound`;
    if (stopped) throw new CloneError(`The clone was stopped at ${stopped}; the history was not scanned.`, 'bound');
    if (code !== 0) throw classify(redact(stderr, remote.authorization));
  } finally {
    clearInterval(watch);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', (error) => reject(new CloneError(`git could not be started: ${error.message}`, 'failed')));
    child.on('close', (code) => resolve(code));
  });
}

function classify(stderr: string): CloneError {
  const text = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
  if (/Authentication failed|could not read Username|\b401\b/i.test(stderr)) {
    return new CloneError("The code host refused the installation's access token for git (401); the history was not scanned.", 'refused');
  }
  if (/\b403\b/.test(stderr)) return new CloneError("The installation's access token may not clone this repository (403); the history was not scanned.", 'refused');
  if (/not found|\b404\b/i.test(stderr)) return new CloneError('The repository or its default branch was not found for git (404).', 'failed');
  return new CloneError(`git clone failed: ${text || 'no message'}`, 'failed');
}

/** git never prints the header, but nothing it prints reaches a log or a record with the token in it. */
function redact(text: string, authorization: string): string {
  const token = authorization.replace(/^\S+\s+/, '');
  return token.length >= 8 ? text.split(token).join('[redacted]') : text;
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else total += await stat(full).then((s) => s.size, () => 0);
  }
  return total;
}

/** Clone directories whose server is gone (killed before its `finally` ran). */
async function removeAbandoned(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^gatehouse-history-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await rm(path.join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
