import { InputError, UsageError } from './errors.ts';
import { MAIN_HELP } from './help.ts';
import { processIo, type CliIo } from './io.ts';

type Command = (argv: string[], io: CliIo) => Promise<number>;

// Loaded on demand: `gatehouse --help` or `db update` need not compile the secret rules.
const COMMANDS: Record<string, () => Promise<Command>> = {
  scan: async () => (await import('./commands/scan.ts')).runScan,
  db: async () => (await import('./commands/db.ts')).runDb,
  sbom: async () => (await import('./commands/sbom.ts')).runSbom,
  pipelines: async () => (await import('./commands/pipelines.ts')).runPipelines,
  simulate: async () => (await import('./commands/simulate.ts')).runSimulate,
  datacenter: async () => (await import('./commands/datacenter.ts')).runDatacenter,
  forge: async () => (await import('./commands/forge.ts')).runForge,
  inventory: async () => (await import('./commands/inventory.ts')).runInventory,
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
      // The version is read from package.json, which `--help` need not parse.
      const { TOOL } = await import('../scan/report/tool.ts');
      io.stdout.write(`${TOOL.version}\n`);
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    return await (await load())(rest, io);
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
