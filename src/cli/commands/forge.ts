import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FORGE_APP_ARI, isHttpsOrLoopback } from '../../config.ts';
import { FORGE_DIR, manifestProblems, renderManifest, uiResources } from '../../forge/manifest.ts';
import { parseCommandArgs } from '../args.ts';
import { InputError, UsageError } from '../errors.ts';
import { FORGE_HELP } from '../help.ts';
import { notice, type CliIo } from '../io.ts';

/**
 * `gatehouse forge manifest [--output FILE]`: the Forge app's manifest.yml from FORGE_APP_ID and
 * BASE_URL. Reads only those two variables (no DATA_DIR, no ENCRYPTION_KEY): rendering a file
 * must not create server state on the machine `forge deploy` runs on.
 */
export async function runForge(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(FORGE_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'manifest') throw new UsageError(`forge: unknown subcommand ${JSON.stringify(sub)}`);
  const args = parseCommandArgs('forge manifest', rest, { output: { type: 'string' } }, false);
  if (args.help) {
    io.stdout.write(FORGE_HELP);
    return 0;
  }
  const appId = io.env.FORGE_APP_ID?.trim() ?? '';
  const baseUrl = (io.env.BASE_URL?.trim() ?? '').replace(/\/+$/, '');
  const problems: string[] = [];
  if (!FORGE_APP_ARI.test(appId)) problems.push(`FORGE_APP_ID: expected the Forge app ARI, ari:cloud:ecosystem::app/<uuid> (got ${JSON.stringify(appId)})`);
  let validUrl = false;
  try {
    validUrl = /^https?:$/.test(new URL(baseUrl).protocol) && isHttpsOrLoopback(baseUrl);
  } catch {
    validUrl = false;
  }
  if (!validUrl) problems.push(`BASE_URL: expected the public https URL of this server, which Forge calls (got ${JSON.stringify(baseUrl)})`);
  if (problems.length > 0) throw new InputError(problems.join('\n'));

  const output = path.resolve(io.cwd, (args.values as { output?: string }).output ?? path.join(FORGE_DIR, 'manifest.yml'));
  const resources = uiResources().map((r) => ({ ...r, path: path.relative(path.dirname(output), path.join(FORGE_DIR, r.path)) || '.' }));
  const yaml = renderManifest({ appId, baseUrl, resources });
  const failed = manifestProblems(yaml);
  if (failed.length > 0) throw new InputError(`the rendered manifest has problems:\n  ${failed.join('\n  ')}`);
  await mkdir(path.dirname(output), { recursive: true });
  await writeFile(output, yaml);
  notice(io, `wrote ${output}`);
  return 0;
}
