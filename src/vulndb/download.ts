import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { VulnDbError } from './errors.ts';

export type Fetch = typeof globalThis.fetch;

/** One request under a watchdog: aborted when no byte arrives for `stallMs`. */
interface Transfer {
  response: Response & { body: ReadableStream<Uint8Array> };
  /** Call on progress to push the deadline back. */
  kick(): void;
  /** Turns an error thrown while reading into one that says what happened. */
  explain(error: unknown, received?: number): VulnDbError;
  done(): void;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/**
 * HTTP for `db update`: streamed bodies, readable errors, and a stall timeout rather than a
 * total one, since a full archive can take minutes on a slow link but should never sit idle.
 */
export class MirrorClient {
  constructor(
    private readonly fetchImpl: Fetch,
    private readonly stallMs: number,
  ) {}

  private async open(url: string, allow404 = false): Promise<Transfer | undefined> {
    const controller = new AbortController();
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const kick = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.stallMs);
    };
    const done = (): void => clearTimeout(timer);
    const explain = (error: unknown, received?: number): VulnDbError => {
      if (error instanceof VulnDbError) return error;
      const after = received === undefined ? '' : ` after ${received} bytes`;
      return stalled
        ? new VulnDbError(`download of ${url} stalled${after}: nothing received for ${this.stallMs / 1000} s`)
        : new VulnDbError(`download of ${url} was interrupted${after} (${describe(error)})`);
    };
    kick();
    let response: Response;
    try {
      response = await this.fetchImpl(url, { signal: controller.signal });
    } catch (error) {
      done();
      throw stalled ? explain(error) : new VulnDbError(`cannot reach ${url} (${describe(error)})`);
    }
    if (allow404 && response.status === 404) {
      done();
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok || !response.body) {
      done();
      await response.body?.cancel();
      throw new VulnDbError(`${url} answered HTTP ${response.status}`);
    }
    return { response: response as Transfer['response'], kick, explain, done };
  }

  /** Streams a response to disk, so a several-hundred-megabyte archive never sits in memory. */
  async downloadToFile(url: string, destination: string): Promise<number> {
    const transfer = (await this.open(url)) as Transfer;
    const expected = Number(transfer.response.headers.get('content-length') ?? Number.NaN);
    let received = 0;
    const body = Readable.fromWeb(transfer.response.body as unknown as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      transfer.kick();
    });
    try {
      await pipeline(body, createWriteStream(destination));
    } catch (error) {
      throw transfer.explain(error, received);
    } finally {
      transfer.done();
    }
    if (Number.isFinite(expected) && received !== expected) {
      throw new VulnDbError(`download of ${url} was cut short: ${received} of ${expected} bytes`);
    }
    return received;
  }

  /** Reads a text response line by line; the consumer may stop early and the rest is not downloaded. */
  async *readLines(url: string): AsyncGenerator<string> {
    const transfer = (await this.open(url)) as Transfer;
    const reader = transfer.response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    let finished = false;
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw transfer.explain(error);
        }
        if (chunk.done) break;
        transfer.kick();
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
      transfer.done();
      if (!finished) await reader.cancel().catch(() => undefined);
    }
  }

  /** A small JSON document; undefined when the mirror has no such file. */
  async getJson(url: string): Promise<unknown> {
    const transfer = await this.open(url, true);
    if (!transfer) return undefined;
    let text: string;
    try {
      text = await transfer.response.text();
    } catch (error) {
      throw transfer.explain(error);
    } finally {
      transfer.done();
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new VulnDbError(`${url} is not valid JSON`);
    }
  }
}
