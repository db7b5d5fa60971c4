import { spawn } from 'node:child_process';
import { gitEnv } from './git-clone.ts';

/**
 * Every commit of a (bare, cloned) repository's HEAD, newest first, each with the patch of what
 * it changed (`git log -p`, no context lines: only added lines matter to a secrets scan).
 * git writes the log; this only cuts its output at the commit markers, one commit at a
 * time, so memory holds one commit's patch, itself capped (a commit's patch past the cap
 * is cut off and said so).
 */

export interface HistoryCommit {
  hash: string;
  /** ISO 8601, as git gives it. */
  authorDate: string;
  patch: Buffer;
  /** The patch was cut at the cap. */
  truncated: boolean;
}

/** A line git cannot start a patch line with: the start of each commit. */
const MARKER = '\x01gatehouse-commit ';
const MARKER_BYTES = Buffer.from(`\n${MARKER}`);

export async function* historyCommits(gitDir: string, home: string, maxPatchBytes: number, signal: AbortSignal): AsyncGenerator<HistoryCommit> {
  const args = ['log', '-p', '--no-color', '--no-ext-diff', '--no-renames', '-U0', '--no-textconv', `--format=tformat:${MARKER.replace('\x01', '%x01')}%H %aI`, 'HEAD'];
  const child = spawn('git', args, { cwd: gitDir, env: gitEnv(home, { GIT_DIR: gitDir }), stdio: ['ignore', 'pipe', 'ignore'] });
  const kill = () => child.kill('SIGKILL');
  signal.addEventListener('abort', kill, { once: true });
  let current: HistoryCommit | null = null;
  let size = 0;
  let parts: Buffer[] = [];
  // Text after the last complete marker search, kept so a marker split across chunks is found.
  let pending = Buffer.from('\n');
  const finish = (): HistoryCommit | null => {
    if (!current) return null;
    const done = { ...current, patch: Buffer.concat(parts) };
    parts = [];
    size = 0;
    return done;
  };
  const append = (bytes: Buffer) => {
    if (!current || bytes.length === 0) return;
    const room = maxPatchBytes - size;
    if (bytes.length > room) current.truncated = true;
    const kept = bytes.length > room ? bytes.subarray(0, Math.max(0, room)) : bytes;
    if (kept.length > 0) parts.push(Buffer.from(kept));
    size += kept.length;
  };
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const at = pending.indexOf(MARKER_BYTES);
        if (at === -1) break;
        const lineEnd = pending.indexOf(0x0a, at + MARKER_BYTES.length);
        if (lineEnd === -1) break;
        append(pending.subarray(0, at + 1));
        const done = finish();
        if (done) yield done;
        const [hash = '', authorDate = ''] = pending.subarray(at + MARKER_BYTES.length, lineEnd).toString('utf8').split(' ');
        current = { hash, authorDate, patch: Buffer.alloc(0), truncated: false };
        pending = pending.subarray(lineEnd);
      }
      // Keep what could be the start of a marker; the rest belongs to the current commit.
      const keep = Math.min(pending.length, MARKER_BYTES.length + 80);
      append(pending.subarray(0, pending.length - keep));
      pending = pending.subarray(pending.length - keep);
    }
    append(pending);
    const last = finish();
    if (last) yield last;
  } finally {
    signal.removeEventListener('abort', kill);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
