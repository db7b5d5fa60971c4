import { runSimulateReceive } from '../../simulator/receive-cli.ts';
import { UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';

export const SIMULATE_HELP = `Usage: gatehouse simulate receive <event> <payload.json> [options]

Acts as Bitbucket toward a running app. "gatehouse simulate receive --help" lists the options.
The whole local Bitbucket starts with "npm run simulate".
`;

/** `gatehouse simulate receive ...`: the simulator owns the command; this adapts the CLI's streams to it. */
export async function runSimulate(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(SIMULATE_HELP);
    return 0;
  }
  if (sub !== 'receive') throw new UsageError(`simulate: unknown subcommand ${JSON.stringify(sub)} (expected "receive")`);
  return runSimulateReceive(rest, {
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => io.stderr.write(`${line}\n`),
    env: io.env,
  });
}
