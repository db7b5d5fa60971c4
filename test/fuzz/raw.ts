import { garbageString } from './inputs.ts';
import type { Rng } from './random.ts';

/**
 * Requests no HTTP client library would send, written to the socket byte for byte: broken
 * request lines, bad header syntax, conflicting lengths, broken chunking, unknown methods,
 * control bytes and invalid UTF-8 in the target. Node's parser refuses most of them before the
 * app sees anything; what matters is that the refusal is an answer the client can read.
 */
export interface RawCase {
  bytes: Buffer;
  /**
   * False when the bytes are not a whole request (no request head, or a body shorter than
   * announced): the sender then half-closes, and closing without an answer is right. A
   * whole request is answered before the sender closes anything.
   */
  whole: boolean;
}

export function rawRequest(rng: Rng, basePath: string): RawCase {
  const path = rng.pick(['/healthz', '/connect/webhook', `${basePath}/connect/lifecycle/installed`, '/api/policy', '/connect/panels/repository', '/ui/triage']);
  const lines = (requestLine: string, headers: string[], body = ''): RawCase => ({ whole: true, bytes: Buffer.from(`${requestLine}\r\n${['Host: gatehouse.example', 'Connection: close', ...headers].join('\r\n')}\r\n\r\n${body}`, 'latin1') });
  const partial = (c: RawCase): RawCase => ({ bytes: c.bytes, whole: false });
  return rng.weighted<() => RawCase>([
    [2, () => lines(`${rng.pick(['FOO', 'BREW', 'get', 'G ET', 'GET\u0000', 'PRI', 'CONNECT'])} ${path} HTTP/1.1`, [])],
    [1, () => lines(`GET ${path}`, [])],
    [1, () => lines(`GET ${path} HTTP/9.9`, [])],
    [1, () => lines(`GET ${path} HTTP/1.1 extra`, [])],
    [1, () => lines(`GET ${path}\u0000x HTTP/1.1`, [])],
    [1, () => lines(`GET ${path}?q=\u00ff\u00fe\u00c0\u0080 HTTP/1.1`, [])],
    [1, () => lines(`GET ${path}?${'a'.repeat(20_000)} HTTP/1.1`, [])],
    [1, () => lines(`GET http://evil.example${path} HTTP/1.1`, [])],
    [1, () => lines(`GET * HTTP/1.1`, [])],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Content-Length: 5', 'Content-Length: 6'], 'hello!')],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Content-Length: -1'], '{}')],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Content-Length: 1e3'], '{}')],
    [1, () => partial(lines(`POST ${path} HTTP/1.1`, ['Content-Length: 99999999999999999999'], '{}'))],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Content-Length: 2', 'Transfer-Encoding: chunked'], '2\r\n{}\r\n0\r\n\r\n')],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n')],
    [1, () => partial(lines(`POST ${path} HTTP/1.1`, ['Transfer-Encoding: chunked'], `${'f'.repeat(30)}\r\n{}\r\n`))],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Transfer-Encoding: gzip, chunked'], '2\r\n{}\r\n0\r\n\r\n')],
    [1, () => lines(`POST ${path} HTTP/1.1`, ['Transfer-Encoding: identity'], '{}')],
    [1, () => lines(`GET ${path} HTTP/1.1`, ['No colon here'])],
    [1, () => lines(`GET ${path} HTTP/1.1`, ['Connection: Upgrade', `Upgrade: ${rng.pick(['websocket', 'h2c', 'x'])}`])],
    [1, () => lines(`GET ${path} HTTP/1.1`, [' Folded: header', ' continued'])],
    [1, () => lines(`GET ${path} HTTP/1.1`, ['Bad Name: x'])],
    [1, () => lines(`GET ${path} HTTP/1.1`, [`X-Value: a\u0000b`])],
    [1, () => lines(`GET ${path} HTTP/1.1`, [`X-Huge: ${'h'.repeat(rng.pick([17_000, 70_000]))}`])],
    [1, () => lines(`GET ${path} HTTP/1.1`, Array.from({ length: 3_000 }, (_, i) => `X-${i}: v`))],
    [1, () => lines(`GET ${path} HTTP/1.1`, [`Authorization: JWT ${Buffer.from(garbageString(rng)).toString('latin1').replace(/[\r\n]/g, '')}`])],
    [1, () => partial({ whole: true, bytes: Buffer.from(`\r\n\r\n\r\n`) })],
    [1, () => partial({ whole: true, bytes: rng.bytes(rng.int(1, 300)) })],
  ])();
}
