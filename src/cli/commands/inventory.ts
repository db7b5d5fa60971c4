import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EXPORT_FORMATS, RowWriter } from '../../core/inventory/export.ts';
import { MappingError, MAX_MAPPING_BYTES, parseMapping, type Mapping } from '../../core/inventory/mapping.ts';
import { ENTITY_TYPES, type EntityType, type InventoryEntity } from '../../core/inventory/model.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { InputError, UsageError } from '../errors.ts';
import { INVENTORY_HELP } from '../help.ts';
import { notice, type CliIo, type OutputStream } from '../io.ts';

/**
 * `gatehouse inventory export`: the inventory export of a running server, read with an API
 * token, written to stdout or a file. With --mapping the rows are shaped here (the server
 * sends the plain entities); without it the server's stored mapping, if any, applies.
 * An --output file appears only once the whole export arrived: a cut-off export leaves
 * nothing that could be mistaken for a complete one.
 */

/** Exit statuses besides 0 and 2 (usage or input). */
export const EXIT_REFUSED = 3;
export const EXIT_FAILED = 4;

class ExportFailed extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const MAX_TOKEN_FILE_BYTES = 4096;

export async function runInventory(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(INVENTORY_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'export') throw new UsageError(`inventory: unknown subcommand ${JSON.stringify(sub)}; expected export`);
  const args = parseCommandArgs(
    'inventory export',
    rest,
    { url: { type: 'string' }, 'token-file': { type: 'string' }, format: { type: 'string' }, type: { type: 'string' }, mapping: { type: 'string' }, output: { type: 'string' } },
    false,
  );
  if (args.help) {
    io.stdout.write(INVENTORY_HELP);
    return 0;
  }
  const v = args.values as Record<string, string | undefined>;
  for (const flag of ['url', 'token-file'] as const) if (v[flag] === undefined) throw new UsageError(`inventory export: --${flag} is required`);
  const base = serverUrl(v.url!);
  const format = oneOf('--format', v.format, EXPORT_FORMATS, 'jsonl');
  const types = typesOf(v.type);
  const token = await readToken(io, v['token-file']!);
  const mapping = v.mapping === undefined ? null : await readMapping(io, v.mapping);

  const url = new URL('api/inventory/export', base);
  // With a local mapping the server sends plain entities as JSON Lines; rows are made here.
  url.searchParams.set('format', mapping ? 'jsonl' : format);
  if (mapping) url.searchParams.set('mapping', 'none');
  if (types) url.searchParams.set('type', types.join(','));
  if (format === 'csv' && !mapping && types?.length !== 1) throw new UsageError(`inventory export: CSV without --mapping takes one --type (${ENTITY_TYPES.join(', ')})`);

  const output = v.output === undefined ? null : path.resolve(io.cwd, v.output);
  const partial = output && path.join(path.dirname(output), `.${path.basename(output)}.partial-${process.pid}`);
  const file = partial ? createWriteStream(partial, { flags: 'wx' }) : null;
  const out: OutputStream = file ?? io.stdout;
  try {
    const body = await fetchExport(url, token);
    if (mapping) await reshape(body, new RowWriter(format, mapping), out);
    else for await (const chunk of body) await put(out, chunk as Buffer);
    if (file) await closeFile(file);
    if (partial && output) await rename(partial, output);
    return 0;
  } catch (error) {
    if (file) await closeFile(file).catch(() => undefined);
    if (partial) await rm(partial, { force: true });
    if (error instanceof ExportFailed) {
      notice(io, error.message);
      return error.status;
    }
    if (error instanceof InputError || error instanceof UsageError) throw error;
    notice(io, `the export from ${base.origin} broke off: ${(error as Error).message}${output ? `; ${v.output} was not written` : ''}`);
    return EXIT_FAILED;
  }
}

function serverUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url: ${JSON.stringify(value)} is not a URL such as https://gatehouse.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--url must be an http:// or https:// URL');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function typesOf(value: string | undefined): EntityType[] | null {
  if (value === undefined) return null;
  const types = value.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !(ENTITY_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) throw new UsageError(`--type: unknown ${unknown.join(', ')}; expected ${ENTITY_TYPES.join(', ')}`);
  return types as EntityType[];
}

async function readToken(io: CliIo, file: string): Promise<string> {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    if ((await stat(full)).size > MAX_TOKEN_FILE_BYTES) throw new InputError(`--token-file: ${file} is larger than ${MAX_TOKEN_FILE_BYTES} bytes; expected an API token`);
    text = (await readFile(full, 'utf8')).replace(/[\r\n]+$/, '');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`--token-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'read failed'})`);
  }
  if (!/^ghtok_[A-Za-z0-9_-]{16,200}$/.test(text)) throw new InputError(`--token-file: ${file} does not hold a Gatehouse API token (ghtok_...); create one on the settings page`);
  return text;
}

async function readMapping(io: CliIo, file: string): Promise<Mapping> {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    if ((await stat(full)).size > MAX_MAPPING_BYTES) throw new InputError(`--mapping: ${file} is larger than ${MAX_MAPPING_BYTES / 1024} KB`);
    text = await readFile(full, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`--mapping: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'read failed'})`);
  }
  try {
    return parseMapping(text);
  } catch (error) {
    if (error instanceof MappingError) throw new InputError(`--mapping: ${file}:${error.line}:${error.column}: ${error.reason}`);
    throw error;
  }
}

async function fetchExport(url: URL, token: string): Promise<Readable> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/x-ndjson, text/csv' } });
  } catch (error) {
    throw new ExportFailed(`cannot reach ${url.origin}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`, EXIT_FAILED);
  }
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '');
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // Not our JSON error (a proxy's page): its start is shown as it is.
    }
    const refused = response.status === 401 || response.status === 403;
    throw new ExportFailed(`the server answered ${response.status}${message ? `: ${message}` : ''}`, refused ? EXIT_REFUSED : response.status < 500 ? EXIT_REFUSED : EXIT_FAILED);
  }
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
}

async function reshape(body: Readable, writer: RowWriter, out: OutputStream): Promise<void> {
  await put(out, writer.header());
  for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
    if (line === '') continue;
    await put(out, writer.line(JSON.parse(line) as InventoryEntity));
  }
}

async function put(out: OutputStream, chunk: string | Buffer): Promise<void> {
  if (chunk.length === 0) return;
  const writable = out as OutputStream & Partial<Pick<WriteStream, 'once'>>;
  if (out.write(chunk as string) === false && typeof writable.once === 'function') await once(writable as WriteStream, 'drain');
}

async function closeFile(file: WriteStream): Promise<void> {
  if (file.closed) return;
  file.end();
  await once(file, 'close');
}
