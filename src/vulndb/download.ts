import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { VulnDbError } from './errors.ts';

export type Fetch = typeof globalThis.fetch;

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

async function get(fetchImpl: Fetch, url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (error) {
    throw new VulnDbError(`cannot reach ${url} (${describe(error)})`);
  }
  return response;
}

async function getOk(fetchImpl: Fetch, url: string): Promise<Response & { body: ReadableStream<Uint8Array> }> {
  const response = await get(fetchImpl, url);
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new VulnDbError(`${url} answered HTTP ${response.status}`);
  }
  return response as Response & { body: ReadableStream<Uint8Array> };
}

/** Streams a response to disk, so a several-hundred-megabyte archive never sits in memory. */
export async function downloadToFile(fetchImpl: Fetch, url: string, destination: string): Promise<number> {
  const response = await getOk(fetchImpl, url);
  const expected = Number(response.headers.get('content-length') ?? Number.NaN);
  let received = 0;
  const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  try {
    await pipeline(body, createWriteStream(destination));
  } catch (error) {
    throw new VulnDbError(`download of ${url} was interrupted after ${received} bytes (${describe(error)})`);
  }
  if (Number.isFinite(expected) && received !== expected) {
    throw new VulnDbError(`download of ${url} was cut short: ${received} of ${expected} bytes`);
  }
  return received;
}

/** Reads a text response line by line; the consumer may stop early and the rest is not downloaded. */
export async function* readLines(fetchImpl: Fetch, url: string): AsyncGenerator<string> {
  const response = await getOk(fetchImpl, url);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  let finished = false;
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new VulnDbError(`download of ${url} was interrupted (${describe(error)})`);
      }
      if (chunk.done) break;
      buffered += chunk.value;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        yield buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    }
    finished = true;
    if (buffered !== '') yield buffered.replace(/\r$/, '');
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

export async function getJson(fetchImpl: Fetch, url: string): Promise<unknown | undefined> {
  const response = await get(fetchImpl, url);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new VulnDbError(`${url} answered HTTP ${response.status}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new VulnDbError(`download of ${url} was interrupted (${describe(error)})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new VulnDbError(`${url} is not valid JSON`);
  }
}
