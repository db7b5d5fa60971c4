import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { batchProcess, ObjectReader } from './git-objects.ts';

/**
 * Real git repositories behind the simulated API, so that diffs, diffstats and file contents
 * come from git itself. Repositories are bare and every commit is built with plumbing
 * (a private index file, write-tree, commit-tree, update-ref): no work tree to keep in sync,
 * no checkout, and reads by hash never race with writes.
 */

export class GitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (e.g. 1 for "no such object"). */
  okCodes?: number[];
}

interface RunResult {
  stdout: Buffer;
  code: number;
}

const IDENTITY = { name: 'Gatehouse Simulator', email: 'simulator@gatehouse.invalid' };

export interface CommitAuthor {
  name: string;
  email: string;
}

export interface DiffOptions {
  context?: number;
  paths?: string[];
  binary?: boolean;
  renames?: boolean;
  ignoreWhitespace?: boolean;
}

export interface DiffstatEntry {
  status: 'added' | 'removed' | 'modified' | 'renamed';
  lines_added: number;
  lines_removed: number;
  old: { path: string } | null;
  new: { path: string } | null;
}

export interface CommitInfo {
  hash: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  date: string;
  message: string;
}

/** Owns a temporary directory of bare repositories; `dispose()` removes it. */
export class GitHost {
  private readonly readers: ObjectReader[] = [];

  private constructor(
    readonly root: string,
    private readonly home: string,
  ) {}

  static async create(parent = os.tmpdir()): Promise<GitHost> {
    const root = await mkdtemp(path.join(parent, 'gatehouse-sim-git-'));
    const home = path.join(root, '.home');
    await mkdir(home);
    return new GitHost(root, home);
  }

  async dispose(): Promise<void> {
    for (const reader of this.readers.splice(0)) reader.close();
    await rm(this.root, { recursive: true, force: true });
  }

  async init(fullName: string, defaultBranch: string): Promise<GitRepository> {
    const dir = path.join(this.root, `${fullName.replace('/', '__')}.git`);
    const reader = new ObjectReader(() => batchProcess(dir, this.env()));
    this.readers.push(reader);
    const repo = new GitRepository(dir, (args, opts) => this.run(dir, args, opts), reader);
    await mkdir(dir, { recursive: true });
    await repo.run(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`]);
    return repo;
  }

  /** No dependency on the machine's git configuration: no system or global config, a private HOME. */
  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, HOME: this.home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...extra };
  }

  private run(cwd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    // An explicit identity on every command.
    const env = this.env(opts.env);
    const fullArgs = ['-c', `user.name=${IDENTITY.name}`, '-c', `user.email=${IDENTITY.email}`, '-c', 'core.quotePath=false', ...args];
    return new Promise((resolve, reject) => {
      const child = spawn('git', fullArgs, { cwd, env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code) => {
        const stderr = Buffer.concat(err).toString('utf8');
        if (code === 0 || (code !== null && opts.okCodes?.includes(code))) {
          resolve({ stdout: Buffer.concat(out), code });
        } else {
          reject(new GitError(`git ${args[0]} failed (${code}): ${stderr.trim()}`, code, stderr));
        }
      });
      if (opts.input !== undefined) {
        // git may exit before reading everything (e.g. on a bad object); that surfaces as its exit code.
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(opts.input);
      }
    });
  }
}

export class GitRepository {
  /** Writes are serialised so that concurrent commits to one repository cannot interleave. */
  private writeQueue: Promise<unknown> = Promise.resolve();
  /**
   * Recursive listings by full commit hash (immutable), the newest few: each page of a
   * `max_depth` listing asks for the same one, which for a tree of 200,000 files is one
   * `ls-tree -r` per page otherwise.
   */
  private readonly listings = new Map<string, Promise<{ path: string; type: 'blob' | 'tree'; size: number }[] | null>>();

  constructor(
    readonly dir: string,
    readonly run: (args: string[], opts?: RunOptions) => Promise<RunResult>,
    /** Reads by full hash go through one long-running `cat-file --batch` (git-objects.ts). */
    private readonly objects?: ObjectReader,
  ) {}

  private async text(args: string[], opts?: RunOptions): Promise<string> {
    return (await this.run(args, opts)).stdout.toString('utf8');
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writeQueue.then(work, work);
    this.writeQueue = next.catch(() => undefined);
    return next;
  }

  /** Full hash of a branch head, or null when the branch does not exist. */
  async branchHead(branch: string): Promise<string | null> {
    const result = await this.run(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { okCodes: [1] });
    const hash = result.stdout.toString('utf8').trim();
    return result.code === 0 && hash ? hash : null;
  }

  /**
   * Copies `refspec` (e.g. `+refs/heads/*:refs/heads/*`) from another repository on this host,
   * objects included: how a fork starts, and how a fork's pull-request head reaches the
   * destination (under refs/pull-requests/, as Bitbucket keeps it).
   */
  async fetchFrom(other: GitRepository, refspec: string): Promise<void> {
    await this.serialise(() => this.run(['fetch', '--quiet', '--no-tags', other.dir, refspec]));
  }

  /** Whether a branch (refs/heads/*) contains the commit: commits only fetched for a fork's pull request do not count. */
  async onBranch(hash: string): Promise<boolean> {
    const out = await this.text(['for-each-ref', '--count=1', '--contains', hash, 'refs/heads/']);
    return out.trim() !== '';
  }

  /** Resolves a full or abbreviated commit hash; null when unknown or ambiguous. */
  async resolveCommit(rev: string): Promise<string | null> {
    if (!/^[0-9a-f]{4,40}$/i.test(rev)) return null;
    // A full hash names one object: the batch reader answers without a new process. Abbreviated
    // ones go to rev-parse, which sees objects written after the reader started.
    if (this.objects && /^[0-9a-f]{40}$/i.test(rev)) {
      const found = await this.objects.read(`${rev.toLowerCase()}^{commit}`);
      return found?.type === 'commit' ? found.hash : null;
    }
    const result = await this.run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { okCodes: [1, 128] });
    const hash = result.stdout.toString('utf8').trim();
    return result.code === 0 && /^[0-9a-f]{40}$/.test(hash) ? hash : null;
  }

  async commitInfo(hash: string): Promise<CommitInfo> {
    const raw = await this.text(['show', '-s', '--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%B', hash]);
    const [full = '', parents = '', authorName = '', authorEmail = '', date = '', ...message] = raw.split('\0');
    return {
      hash: full,
      parents: parents.split(' ').filter(Boolean),
      authorName,
      authorEmail,
      date,
      message: message.join('\0').replace(/\n$/, ''),
    };
  }

  /** Commits reachable from `head` but not from `base` (newest first), like `git log base..head`. */
  async commitsBetween(base: string | null, head: string): Promise<string[]> {
    const range = base ? [head, `^${base}`] : [head];
    const out = await this.text(['rev-list', ...range]);
    return out.split('\n').filter(Boolean);
  }

  async createBranch(branch: string, from: string): Promise<string> {
    return this.serialise(async () => {
      const hash = await this.resolveCommit(from) ?? await this.branchHead(from);
      if (!hash) throw new GitError(`unknown start point ${from}`, null, '');
      await this.run(['update-ref', `refs/heads/${branch}`, hash, '']);
      return hash;
    });
  }

  /**
   * Commits `files` on top of `branch` (created from nothing when absent). A null value
   * deletes the path. Returns the new commit's full hash.
   */
  async commit(branch: string, files: Record<string, string | null>, message: string, author?: CommitAuthor): Promise<string> {
    return this.serialise(async () => {
      const parent = await this.branchHead(branch);
      const index = path.join(this.dir, `sim-index-${randomUUID()}`);
      const env = { GIT_INDEX_FILE: index };
      try {
        if (parent) await this.run(['read-tree', parent], { env });
        else await this.run(['read-tree', '--empty'], { env });
        // One --index-info batch; mode 0 removes a path (update-index --force-remove needs a work tree).
        const lines: string[] = [];
        const written = Object.entries(files).filter((entry): entry is [string, string] => entry[1] !== null);
        const blobs = await this.writeBlobs(written.map(([, content]) => content));
        written.forEach(([file], i) => lines.push(`100644 ${blobs[i]}\t${normaliseRepoPath(file)}`));
        for (const [file, content] of Object.entries(files)) if (content === null) lines.push(`0 ${'0'.repeat(40)}\t${normaliseRepoPath(file)}`);
        if (lines.length > 0) await this.run(['update-index', '--index-info'], { env, input: `${lines.join('\n')}\n` });
        const tree = (await this.text(['write-tree'], { env })).trim();
        return await this.commitTree(tree, parent ? [parent] : [], message, branch, parent, author);
      } finally {
        await rm(index, { force: true });
      }
    });
  }

  /**
   * Many branches at once, each one commit of `files` on top of `from`, through one
   * `git fast-import`: a load test's ten thousand pull-request branches in seconds instead of
   * nine git processes each. Existing branches are refused (fast-import would move them).
   */
  async commitBranches(from: string, branches: { branch: string; files: Record<string, string> }[], message: string): Promise<void> {
    await this.serialise(async () => {
      const base = await this.branchHead(from);
      if (!base) throw new GitError(`unknown start point ${from}`, null, '');
      const existing = new Set((await this.text(['for-each-ref', '--format=%(refname:strip=2)', 'refs/heads/'])).split('\n'));
      const taken = branches.find(({ branch }) => existing.has(branch));
      if (taken) throw new GitError(`branch ${taken.branch} already exists`, null, '');
      const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
      const when = `${Math.floor(Date.now() / 1000)} +0000`;
      const stream = branches.map(({ branch, files }) =>
        [
          `commit refs/heads/${branch}\n`,
          `committer ${IDENTITY.name} <${IDENTITY.email}> ${when}\n`,
          data(`${message}\n`),
          `from ${base}\n`,
          ...Object.entries(files).map(([file, content]) => `M 100644 inline ${normaliseRepoPath(file)}\n${data(content)}`),
          '\n',
        ].join(''),
      );
      await this.run(['fast-import', '--quiet'], { input: stream.join('') });
    });
  }

  /**
   * Writes blobs and returns their hashes in order. Many at once go through one git process
   * (`--stdin-paths` over temporary files): a generated workspace commits thousands of files.
   */
  private async writeBlobs(contents: string[]): Promise<string[]> {
    if (contents.length <= 1) return Promise.all(contents.map(async (content) => (await this.text(['hash-object', '-w', '--stdin'], { input: content })).trim()));
    const dir = path.join(this.dir, `sim-blobs-${randomUUID()}`);
    await mkdir(dir);
    try {
      const files = await Promise.all(contents.map(async (content, i) => {
        const file = path.join(dir, String(i));
        await writeFile(file, content);
        return file;
      }));
      const out = await this.text(['hash-object', '-w', '--stdin-paths'], { input: `${files.join('\n')}\n` });
      return out.trim().split('\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A merge commit of `source` into `destination` (no fast-forward), as Bitbucket's default strategy. */
  async merge(destination: string, source: string, message: string, author?: CommitAuthor): Promise<string> {
    return this.serialise(async () => {
      const dst = await this.branchHead(destination);
      const src = await this.branchHead(source);
      if (!dst || !src) throw new GitError(`cannot merge ${source} into ${destination}: missing branch`, null, '');
      const result = await this.run(['merge-tree', '--write-tree', dst, src], { okCodes: [1] });
      const tree = result.stdout.toString('utf8').split('\n')[0]?.trim() ?? '';
      if (result.code === 1) throw new GitError(`merge of ${source} into ${destination} has conflicts`, 1, '');
      return this.commitTree(tree, [dst, src], message, destination, dst, author);
    });
  }

  private async commitTree(tree: string, parents: string[], message: string, branch: string, expectedOld: string | null, author?: CommitAuthor): Promise<string> {
    const who = author ?? IDENTITY;
    const env = {
      GIT_AUTHOR_NAME: who.name,
      GIT_AUTHOR_EMAIL: who.email,
      GIT_COMMITTER_NAME: who.name,
      GIT_COMMITTER_EMAIL: who.email,
    };
    const parentArgs = parents.flatMap((p) => ['-p', p]);
    const hash = (await this.text(['commit-tree', tree, ...parentArgs, '-F', '-'], { input: `${message}\n`, env })).trim();
    await this.run(['update-ref', `refs/heads/${branch}`, hash, expectedOld ?? '']);
    return hash;
  }

  /** File contents at a commit; null when the path is not a file there. */
  async show(commit: string, file: string): Promise<Buffer | null> {
    const spec = `${commit}:${normaliseRepoPath(file)}`;
    if (this.objects && /^[0-9a-f]{40}$/i.test(commit)) {
      const found = await this.objects.read(spec);
      return found?.type === 'blob' ? found.content : null;
    }
    const type = await this.run(['cat-file', '-t', spec], { okCodes: [1, 128] });
    if (type.code !== 0 || type.stdout.toString('utf8').trim() !== 'blob') return null;
    return (await this.run(['cat-file', 'blob', spec])).stdout;
  }

  /**
   * Entries of a directory at a commit, its subdirectories' entries too down to `maxDepth`
   * levels (1: the directory's own entries), breadth first as Bitbucket's `max_depth` lists
   * them; null when the path is not a directory there.
   */
  async listDirectory(commit: string, dir: string, maxDepth = 1): Promise<{ path: string; type: 'blob' | 'tree'; size: number }[] | null> {
    if (maxDepth <= 1 || !/^[0-9a-f]{40}$/.test(commit)) return this.listDirectoryUncached(commit, dir, maxDepth);
    const key = `${commit}\0${dir}\0${maxDepth}`;
    let listing = this.listings.get(key);
    if (!listing) {
      listing = this.listDirectoryUncached(commit, dir, maxDepth);
      this.listings.set(key, listing);
      listing.catch(() => this.listings.delete(key));
      while (this.listings.size > 8) this.listings.delete(this.listings.keys().next().value!);
    }
    return listing;
  }

  private async listDirectoryUncached(commit: string, dir: string, maxDepth: number): Promise<{ path: string; type: 'blob' | 'tree'; size: number }[] | null> {
    const clean = dir.replace(/^\/+|\/+$/g, '');
    const treeish = clean ? `${commit}:${normaliseRepoPath(clean)}` : `${commit}^{tree}`;
    const type = await this.run(['cat-file', '-t', treeish], { okCodes: [1, 128] });
    if (type.code !== 0 || type.stdout.toString('utf8').trim() !== 'tree') return null;
    const recursive = maxDepth > 1 ? ['-r', '-t'] : [];
    const out = await this.text(['ls-tree', '-z', '--long', ...recursive, treeish]);
    const entries = out.split('\0').filter(Boolean).map((line) => {
      const [meta = '', name = ''] = line.split('\t');
      const [, kind, , size] = meta.split(/\s+/);
      return { name, type: kind === 'tree' ? ('tree' as const) : ('blob' as const), size: Number(size) || 0, depth: name.split('/').length };
    });
    return entries
      .filter((e) => e.depth <= maxDepth)
      .sort((a, b) => a.depth - b.depth)
      .map((e) => ({ path: clean ? `${clean}/${e.name}` : e.name, type: e.type, size: e.size }));
  }

  /**
   * `git diff from to` with Bitbucket's query options mapped onto git's flags. Binary files show
   * as "Binary files ... differ", as on Bitbucket; `binary: false` leaves them out entirely.
   */
  async diff(from: string | null, to: string, opts: DiffOptions = {}): Promise<Buffer> {
    const base = from ?? (await this.emptyTree());
    const renames = opts.renames === false ? '--no-renames' : '-M';
    const args = ['diff', '--no-color', '--no-ext-diff', `-U${opts.context ?? 3}`, renames];
    if (opts.ignoreWhitespace) args.push('--ignore-all-space');
    args.push(base, to);
    const paths = opts.paths?.map(normaliseRepoPath) ?? [];
    const excluded = opts.binary === false ? await this.binaryPaths(base, to, renames) : [];
    if (paths.length > 0 || excluded.length > 0) {
      args.push('--', ...(paths.length > 0 ? paths : ['.']), ...excluded.map((p) => `:(exclude,literal)${p}`));
    }
    return (await this.run(args)).stdout;
  }

  private async binaryPaths(from: string, to: string, renames: string): Promise<string[]> {
    const out = (await this.text(['diff', '-z', '--numstat', renames, from, to])).split('\0');
    const binary: string[] = [];
    for (let i = 0; i < out.length; i++) {
      const [added, removed, file = ''] = (out[i] ?? '').split('\t');
      const paths = file === '' && added !== undefined && added !== '' ? [out[++i] ?? '', out[++i] ?? ''] : [file];
      if (added === '-' && removed === '-') binary.push(...paths.filter(Boolean));
    }
    return binary;
  }

  async diffstat(from: string | null, to: string, opts: Pick<DiffOptions, 'paths' | 'renames' | 'ignoreWhitespace'> = {}): Promise<DiffstatEntry[]> {
    const base = from ?? (await this.emptyTree());
    const flags = [opts.renames === false ? '--no-renames' : '-M', ...(opts.ignoreWhitespace ? ['--ignore-all-space'] : [])];
    const pathArgs = opts.paths?.length ? ['--', ...opts.paths.map(normaliseRepoPath)] : [];
    const status = (await this.text(['diff', '-z', '--name-status', ...flags, base, to, ...pathArgs])).split('\0');
    const numstat = (await this.text(['diff', '-z', '--numstat', ...flags, base, to, ...pathArgs])).split('\0');

    const counts = new Map<string, { added: number; removed: number }>();
    for (let i = 0; i < numstat.length; i++) {
      const head = numstat[i];
      if (!head) continue;
      const [added = '0', removed = '0', file = ''] = head.split('\t');
      // With -z a rename's numstat line has an empty path followed by old and new paths.
      let key = file;
      if (file === '') {
        i += 2;
        key = numstat[i] ?? '';
      }
      // Binary files report "-": Bitbucket counts them as zero lines.
      counts.set(key, { added: Number(added) || 0, removed: Number(removed) || 0 });
    }

    const entries: DiffstatEntry[] = [];
    for (let i = 0; i < status.length; i++) {
      const code = status[i];
      if (!code) continue;
      const letter = code[0];
      if (letter === 'R' || letter === 'C') {
        const oldPath = status[++i] ?? '';
        const newPath = status[++i] ?? '';
        const c = counts.get(newPath) ?? { added: 0, removed: 0 };
        entries.push({ status: letter === 'R' ? 'renamed' : 'added', lines_added: c.added, lines_removed: c.removed, old: letter === 'R' ? { path: oldPath } : null, new: { path: newPath } });
        continue;
      }
      const file = status[++i] ?? '';
      const c = counts.get(file) ?? { added: 0, removed: 0 };
      if (letter === 'A') entries.push({ status: 'added', lines_added: c.added, lines_removed: c.removed, old: null, new: { path: file } });
      else if (letter === 'D') entries.push({ status: 'removed', lines_added: c.added, lines_removed: c.removed, old: { path: file }, new: null });
      else entries.push({ status: 'modified', lines_added: c.added, lines_removed: c.removed, old: { path: file }, new: { path: file } });
    }
    return entries;
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const result = await this.run(['merge-base', a, b], { okCodes: [1] });
    const hash = result.stdout.toString('utf8').trim();
    return result.code === 0 && hash ? hash : null;
  }

  async firstParent(hash: string): Promise<string | null> {
    return (await this.commitInfo(hash)).parents[0] ?? null;
  }

  private async emptyTree(): Promise<string> {
    return (await this.text(['hash-object', '-t', 'tree', '--stdin'], { input: '' })).trim();
  }
}

/** Rejects paths that git would refuse or that escape the repository. */
export function normaliseRepoPath(file: string): string {
  const clean = file.replace(/^\/+/, '');
  if (!clean || [...clean].some((ch) => ch.charCodeAt(0) < 0x20) || clean.split('/').some((part) => part === '' || part === '.' || part === '..' || part === '.git')) {
    throw new GitError(`invalid repository path: ${JSON.stringify(file)}`, null, '');
  }
  return clean;
}
