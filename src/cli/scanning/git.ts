import { spawn } from 'node:child_process';
import { InputError, UsageError } from '../errors.ts';

/**
 * Options that make `git diff` print a plain unified diff whatever the user's git
 * configuration says: no colour, external diff tools or text conversion, the `a/` `b/`
 * prefixes the parser expects (`diff.noprefix` and `diff.mnemonicPrefix` change them),
 * paths from the top level (`diff.relative`) and unquoted UTF-8 names. No context lines:
 * only added lines are scanned.
 */
const DIFF_OPTIONS = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--src-prefix=a/', '--dst-prefix=b/', '--unified=0', '--ignore-submodules'];

interface GitRun {
  stdout: AsyncIterable<string>;
  /** Resolves when git has exited; throws InputError with git's own message when it failed. */
  finished: Promise<void>;
}

function runGit(cwd: string, args: string[]): GitRun {
  const child = spawn('git', ['-c', 'core.quotePath=false', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8');
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(new InputError(error.code === 'ENOENT' ? 'git is not installed (or not on PATH)' : `git could not be run (${error.code ?? error.message})`)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new InputError(`git ${args[0]} failed: ${stderr.trim().split('\n')[0] || `exit status ${code}`}`));
    });
  });
  // Kept handled until the caller awaits it, so a failure while the output is read is not "unhandled".
  finished.catch(() => undefined);
  return { stdout: child.stdout, finished };
}

async function gitOutput(cwd: string, args: string[]): Promise<string> {
  const run = runGit(cwd, args);
  let text = '';
  for await (const chunk of run.stdout) text += chunk;
  await run.finished;
  return text.trim();
}

/** The repository's top level: where the paths of its diffs start and its settings live. */
export async function gitTopLevel(cwd: string): Promise<string> {
  try {
    return await gitOutput(cwd, ['rev-parse', '--show-toplevel']);
  } catch (error) {
    if (error instanceof InputError && /not a git repository/i.test(error.message)) throw new InputError(`${cwd} is not inside a git repository`);
    throw error;
  }
}

/** Checks that REF names a commit, so a typo is one clear line rather than git's usage text. */
async function verifyCommit(cwd: string, ref: string): Promise<void> {
  // A ref starting with "-" would reach git as an option.
  if (ref === '' || ref.startsWith('-')) throw new UsageError(`--since needs a commit, branch or tag (got ${JSON.stringify(ref)})`);
  try {
    await gitOutput(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new InputError(`--since ${ref}: not a commit in this repository`);
  }
}

/** Streams a git diff, then throws if git failed: a truncated diff must not pass as a clean one. */
async function* streamDiff(cwd: string, args: string[]): AsyncGenerator<string> {
  const run = runGit(cwd, ['diff', ...DIFF_OPTIONS, ...args]);
  yield* run.stdout;
  await run.finished;
}

/** What is staged for the next commit: the index against HEAD (against nothing before the first commit). */
export function stagedDiff(cwd: string): AsyncGenerator<string> {
  return streamDiff(cwd, ['--cached']);
}

/**
 * What HEAD adds since it branched from REF (`REF...HEAD`, from their merge base): a pull
 * request's own changes, not the reverse of what landed on REF meanwhile.
 */
export async function* diffSince(cwd: string, ref: string): AsyncGenerator<string> {
  await verifyCommit(cwd, ref);
  yield* streamDiff(cwd, [`${ref}...HEAD`]);
}
