import { TOOL } from '../scan/report/tool.ts';
import { runDb } from './commands/db.ts';
import { runSbom } from './commands/sbom.ts';
import { runScan } from './commands/scan.ts';
import { InputError, UsageError } from './errors.ts';
import { MAIN_HELP } from './help.ts';
import { processIo, type CliIo } from './io.ts';

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  scan: runScan,
  db: runDb,
  sbom: runSbom,
};

/**
 * The `gatehouse` command. Returns the exit status: 0 clean, 1 findings at or above the
 * threshold, 2 usage or input error. Errors the user can fix are one line on stderr;
 * anything else is a bug: its stack goes to stderr, and the status is 2 rather than a
 * crash's 1, which a CI gate would read as "findings".
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(MAIN_HELP);
      return 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`${TOOL.version}\n`);
      return 0;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`gatehouse: ${error.message}\nRun "gatehouse --help" for usage.\n`);
      return 2;
    }
    if (error instanceof InputError) {
      io.stderr.write(`gatehouse: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`gatehouse: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 2;
  }
}
