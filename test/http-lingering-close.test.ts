import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LINGER_DEFAULTS } from '../src/http/linger.ts';
import { install, newTenant, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

/**
 * A sender whose body is refused must still read the refusal. The client here writes its
 * whole 5 MB body before it reads anything, the way simple HTTP clients do: if the server
 * closes the socket while body bytes are still arriving, the kernel answers them with a
 * reset, which discards the 413 the client has not read yet.
 */

let t: TestApp;
let a: Tenant;
let server: Server;
let port: number;

beforeEach(async () => {
  t = await startTestApp();
  a = newTenant();
  await install(t, a);
  server = createServer(t.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const BODY_BYTES = 5 * 1024 * 1024;

/** Sends a signed webhook with a 5 MB body, reading only once every byte was handed to the kernel. */
function sendOversized(chunked: boolean): Promise<string> {
  const jwt = signFor(t, a, 'POST', '/connect/webhook');
  const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${BODY_BYTES}`;
  const head = `POST /connect/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: JWT ${jwt}\r\nX-Event-Key: repo:push\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    let answer = '';
    socket.on('error', () => {}); // a reset shows as an empty answer below
    socket.on('close', () => resolve(answer));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('connect', () => {
      socket.write(head);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const frame = chunked ? [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')] : [chunk];
      for (let sent = 0; sent < BODY_BYTES; sent += chunk.length) for (const part of frame) socket.write(part);
      if (chunked) socket.write('0\r\n\r\n');
      // Only now start reading, after the writes were flushed (or failed).
      socket.write('', () => socket.resume());
      socket.once('error', () => socket.resume());
    });
  });
}

describe('lingering close after a 413', () => {
  it.each([false, true])('a client that sends 5 MB before reading reads the 413 (chunked: %s), every time', { timeout: 60_000 }, async (chunked) => {
    for (let i = 0; i < 5; i++) {
      const answer = await sendOversized(chunked);
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
      expect(answer).toContain('"code":"payload_too_large"');
    }
  });
});

describe('the lingering is bounded', () => {
  it('a sender that never stops is cut off after the linger byte bound, not read to the end', { timeout: 60_000 }, async () => {
    const jwt = signFor(t, a, 'POST', '/connect/webhook');
    const head = `POST /connect/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: JWT ${jwt}\r\nX-Event-Key: repo:push\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const offered = 1024 * 1024 * 1024;
    const accepted = await new Promise<number>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      let written = 0;
      const pump = () => {
        while (written < offered && !socket.destroyed) {
          written += frame.length;
          if (!socket.write(frame)) return;
        }
      };
      socket.on('drain', pump);
      socket.on('error', () => {});
      socket.on('close', () => resolve(written));
      socket.on('connect', () => {
        socket.write(head);
        pump();
      });
    });
    // What the client got rid of: the 1 MB limit, the linger bound, and the two kernels' buffers.
    expect(accepted).toBeLessThan(1024 * 1024 + LINGER_DEFAULTS.maxBytes + 32 * 1024 * 1024);
  });
});
