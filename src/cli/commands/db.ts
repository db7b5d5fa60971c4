import { DEFAULT_OSV_MIRROR_URL, httpUrl } from '../../config.ts';
import { ECOSYSTEMS, type Ecosystem } from '../../scan/types.ts';
import { migrate, SchemaError } from '../../store/postgres/migrate.ts';
import { VulnDbError } from '../../vulndb/errors.ts';
import { formatSummary, updateVulnDb } from '../../vulndb/update.ts';
import { parseCommandArgs } from '../args.ts';
import { dataDirOf } from '../database.ts';
import { InputError, UsageError } from '../errors.ts';
import { DB_HELP } from '../help.ts';
import { notice, type CliIo } from '../io.ts';

function mirrorOf(io: CliIo): string {
  const raw = io.env.OSV_MIRROR_URL;
  // As in src/config.ts, an empty value means "not set".
  if (raw === undefined || raw === '') return DEFAULT_OSV_MIRROR_URL;
  const parsed = httpUrl.safeParse(raw);
  if (!parsed.success) throw new InputError(`OSV_MIRROR_URL: ${parsed.error.issues[0]?.message} (got ${JSON.stringify(raw)})`);
  return parsed.data;
}

/** `npm,PyPI` to OSV spellings; case is forgiven (`pypi`), unknown names are not. */
function parseEcosystems(value: string | undefined): Ecosystem[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('db update: --ecosystems needs at least one ecosystem');
  return names.map((name) => {
    const ecosystem = ECOSYSTEMS.find((e) => e.toLowerCase() === name.toLowerCase());
    if (!ecosystem) throw new UsageError(`db update: unknown ecosystem ${JSON.stringify(name)}; expected some of ${ECOSYSTEMS.join(', ')}`);
    return ecosystem;
  });
}

async function runUpdate(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('db update', argv, { ecosystems: { type: 'string' } }, false);
  if (args.help) {
    io.stdout.write(DB_HELP);
    return 0;
  }
  const ecosystems = parseEcosystems(args.values.ecosystems as string | undefined);
  const mirror = mirrorOf(io);
  const dataDir = dataDirOf(io);
  try {
    const summary = await updateVulnDb({
      mirrorUrl: mirror,
      dataDir,
      ecosystems,
      takeOverLockFromOtherHost: io.env.DATA_DIR_LOCK_OTHER_HOST === 'take-over',
      log: (line) => notice(io, line),
    });
    io.stdout.write(formatSummary(summary) + '\n');
    return 0;
  } catch (error) {
    if (!(error instanceof VulnDbError)) throw error;
    // Not a usage error: the command was right, the download or the mirror was not.
    notice(io, `db update failed: ${error.message}. The previous database, if any, is still in use.`);
    return 1;
  }
}

/** `db migrate`: the PostgreSQL schema migrations alone, as every server runs them at start-up. */
async function runMigrate(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('db migrate', argv, {}, false);
  if (args.help) {
    io.stdout.write(DB_HELP);
    return 0;
  }
  const databaseUrl = io.env.DATABASE_URL?.trim();
  if (!databaseUrl) throw new UsageError('db migrate: DATABASE_URL is not set (the embedded store in DATA_DIR has no schema to migrate)');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new UsageError('db migrate: DATABASE_URL: expected a postgres://user@host:port/database URL');
  try {
    const applied = await migrate(databaseUrl, { info: () => undefined, warn: (line) => notice(io, line) });
    io.stdout.write(applied.length === 0 ? 'database schema is current; nothing to migrate\n' : `applied ${applied.length} migration(s): ${applied.join(', ')}\n`);
    return 0;
  } catch (error) {
    // Every pending migration runs in one transaction: a failure leaves the schema as it was.
    notice(io, `db migrate failed: ${error instanceof SchemaError ? error.message : (error as Error).message}. The schema is unchanged.`);
    return 1;
  }
}

export async function runDb(argv: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === '--help' || subcommand === '-h') {
    io.stdout.write(DB_HELP);
    return 0;
  }
  if (subcommand === undefined) throw new UsageError('db: expected a subcommand: update or migrate');
  if (subcommand === 'migrate') return runMigrate(rest, io);
  if (subcommand !== 'update') throw new UsageError(`db: unknown subcommand ${JSON.stringify(subcommand)}; expected "update" or "migrate"`);
  return runUpdate(rest, io);
}
