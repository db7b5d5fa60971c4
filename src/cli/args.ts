import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs in strict mode, with every `--help` honoured even when other
 * arguments are wrong, and its errors (whose wording and codes are Node's) turned into
 * a UsageError naming the command.
 */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O, allowPositionals: boolean) {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) return { help: true as const };
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { help: false as const, values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error);
    throw new UsageError(`${command}: ${message}`);
  }
}

/** Checks a flag's value against a fixed list of lower-case words (any case accepted), naming the list when it is wrong. */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  const match = allowed.find((word) => word === value.toLowerCase());
  if (match !== undefined) return match;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
}
