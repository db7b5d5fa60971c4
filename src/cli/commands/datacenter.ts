import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config.ts';
import { parseWebhookTargets, type WebhookTarget } from '../../datacenter/instance-api.ts';
import { addInstance, listInstances, RegistrationError, removeInstance, rotateSecret, type RegistrationDeps } from '../../datacenter/registration.ts';
import { openDatacenterInstances } from '../../store/open-stores.ts';
import { parseCommandArgs } from '../args.ts';
import { InputError, UsageError } from '../errors.ts';
import { DATACENTER_HELP } from '../help.ts';
import { notice, type CliIo } from '../io.ts';

/**
 * `gatehouse datacenter add|list|remove|rotate-secret`.
 *
 * How it writes while a server runs: the server holds the DATA_DIR lock for its journal,
 * but Data Center instances live in a document of their own that any process may change
 * under a short lock (src/store/datacenter-instance-file.ts); the server re-reads it when it
 * is replaced. With DATABASE_URL they are a table any process may change. So the command
 * needs no running server, no ADMIN_TOKEN and no network path to the server, and a server
 * started later finds the instance too.
 */

/** Token and secret files are small; anything bigger is the wrong file. */
const MAX_FILE_BYTES = 64 * 1024;
const MAX_GRACE_HOURS = 720;

async function readSecretFile(io: CliIo, flag: string, file: string): Promise<string> {
  const full = path.resolve(io.cwd, file);
  try {
    if ((await stat(full)).size > MAX_FILE_BYTES) throw new InputError(`${flag}: ${file} is larger than ${MAX_FILE_BYTES / 1024} KB; expected a token or secret`);
    // Editors and `echo` end files with a newline that is not part of the value.
    const value = (await readFile(full, 'utf8')).replace(/[\r\n]+$/, '');
    if (value === '') throw new InputError(`${flag}: ${file} is empty`);
    return value;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'read failed'})`);
  }
}

/** Runs `work` with the registry of the configured store, closed afterwards. */
async function withRegistry<T>(io: CliIo, work: (deps: RegistrationDeps) => Promise<T>): Promise<T> {
  const loaded = loadConfig(io.env);
  if (!loaded.ok) throw new InputError(`the configuration has problems:\n  ${loaded.problems.join('\n  ')}`);
  // A generated ENCRYPTION_KEY warning matters here too: the server must use the same key.
  for (const warning of loaded.warnings) notice(io, warning);
  const { config } = loaded;
  const { instances, close } = await openDatacenterInstances(config);
  try {
    return await work({ instances, encryptionKey: config.encryptionKey, publicBaseUrl: config.baseUrl, now: () => new Date() });
  } finally {
    await close();
  }
}

function targetsOf(value: string | undefined): WebhookTarget[] | undefined {
  if (value === undefined) return undefined;
  const parsed = parseWebhookTargets(value);
  if (!parsed.ok) throw new UsageError(`--install-webhooks: ${parsed.reason}`);
  return parsed.targets;
}

function printLine(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

async function runAdd(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(
    'datacenter add',
    argv,
    { name: { type: 'string' }, 'base-url': { type: 'string' }, 'token-file': { type: 'string' }, 'webhook-secret-file': { type: 'string' }, 'install-webhooks': { type: 'string' } },
    false,
  );
  if (args.help) {
    io.stdout.write(DATACENTER_HELP);
    return 0;
  }
  const v = args.values as Record<string, string | undefined>;
  for (const flag of ['name', 'base-url', 'token-file'] as const) if (v[flag] === undefined) throw new UsageError(`datacenter add: --${flag} is required`);
  const installWebhooks = targetsOf(v['install-webhooks']);
  const token = await readSecretFile(io, '--token-file', v['token-file']!);
  const webhookSecret = v['webhook-secret-file'] === undefined ? undefined : await readSecretFile(io, '--webhook-secret-file', v['webhook-secret-file']);
  const result = await withRegistry(io, (deps) => addInstance(deps, {
    name: v.name!,
    baseUrl: v['base-url']!,
    token,
    ...(webhookSecret === undefined ? {} : { webhookSecret }),
    ...(installWebhooks ? { installWebhooks } : {}),
  }));
  printLine(io, {
    instanceId: result.instance.instanceId,
    name: result.instance.name,
    baseUrl: result.instance.baseUrl,
    webhookUrl: result.instance.webhookUrl,
    ...(result.generatedSecret ? { webhookSecret: result.generatedSecret } : {}),
    updated: result.updated,
    ...(installWebhooks ? { webhooks: result.webhooks } : {}),
  });
  return 0;
}

async function runList(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('datacenter list', argv, {}, false);
  if (args.help) {
    io.stdout.write(DATACENTER_HELP);
    return 0;
  }
  printLine(io, await withRegistry(io, listInstances));
  return 0;
}

function onlyName(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`datacenter ${command}: expected the instance's NAME`);
  return positionals[0]!;
}

async function runRemove(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('datacenter remove', argv, {}, true);
  if (args.help) {
    io.stdout.write(DATACENTER_HELP);
    return 0;
  }
  const name = onlyName('remove', args.positionals);
  const removed = await withRegistry(io, (deps) => removeInstance(deps, name));
  printLine(io, { removed: true, instanceId: removed.instanceId, name: removed.name });
  return 0;
}

async function runRotate(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(
    'datacenter rotate-secret',
    argv,
    { 'webhook-secret-file': { type: 'string' }, 'grace-hours': { type: 'string' }, 'install-webhooks': { type: 'string' } },
    true,
  );
  if (args.help) {
    io.stdout.write(DATACENTER_HELP);
    return 0;
  }
  const name = onlyName('rotate-secret', args.positionals);
  const v = args.values as Record<string, string | undefined>;
  let graceMs: number | undefined;
  if (v['grace-hours'] !== undefined) {
    const hours = Number(v['grace-hours']);
    if (!/^\d+(\.\d+)?$/.test(v['grace-hours']) || hours > MAX_GRACE_HOURS) throw new UsageError(`--grace-hours: expected a number of hours from 0 to ${MAX_GRACE_HOURS}`);
    graceMs = Math.round(hours * 3_600_000);
  }
  const installWebhooks = targetsOf(v['install-webhooks']);
  const webhookSecret = v['webhook-secret-file'] === undefined ? undefined : await readSecretFile(io, '--webhook-secret-file', v['webhook-secret-file']);
  const result = await withRegistry(io, (deps) => rotateSecret(deps, {
    name,
    ...(webhookSecret === undefined ? {} : { webhookSecret }),
    ...(graceMs === undefined ? {} : { graceMs }),
    ...(installWebhooks ? { installWebhooks } : {}),
  }));
  printLine(io, {
    instanceId: result.instance.instanceId,
    name: result.instance.name,
    webhookUrl: result.instance.webhookUrl,
    // Printed even when read from a file: it is what must now be pasted into Bitbucket.
    webhookSecret: result.webhookSecret,
    previousSecretValidUntil: result.previousSecretValidUntil,
    ...(installWebhooks ? { webhooks: result.webhooks } : {}),
  });
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  add: runAdd,
  list: runList,
  remove: runRemove,
  'rotate-secret': runRotate,
};

export async function runDatacenter(argv: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === '--help' || subcommand === '-h') {
    io.stdout.write(DATACENTER_HELP);
    return 0;
  }
  const run = subcommand !== undefined && Object.hasOwn(SUBCOMMANDS, subcommand) ? SUBCOMMANDS[subcommand] : undefined;
  if (!run) throw new UsageError(`datacenter: expected a subcommand: ${Object.keys(SUBCOMMANDS).join(', ')}`);
  try {
    return await run(rest, io);
  } catch (err) {
    if (!(err instanceof RegistrationError)) throw err;
    if (err.problem !== 'check_failed') throw new InputError(`datacenter ${subcommand}: ${err.message}`);
    // The command was right; the instance said no or could not be reached.
    notice(io, `datacenter ${subcommand}: ${err.message}`);
    return 1;
  }
}
