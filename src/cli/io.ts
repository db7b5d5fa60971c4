/** Where the CLI writes; process streams in real use, string collectors in tests. */
export interface OutputStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: AsyncIterable<string | Buffer>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

let stdoutGuarded = false;

/**
 * The real process streams. When the reader of stdout goes away (`gatehouse scan | head`)
 * Node reports EPIPE as an 'error' event, which would otherwise crash the process with a
 * stack trace; the output is simply no longer wanted, so the error is swallowed and the
 * command finishes with its own exit status.
 */
export function processIo(): CliIo {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
      process.stderr.write(`gatehouse: cannot write output (${error.code ?? error.message})\n`);
      process.exitCode = 2;
    });
  }
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Colour only for a terminal, and never when NO_COLOR is set to anything (https://no-color.org). */
export function wantsColor(io: CliIo): boolean {
  return io.stdout.isTTY === true && !io.env.NO_COLOR;
}

export function notice(io: CliIo, message: string): void {
  io.stderr.write(`gatehouse: ${message}\n`);
}
