import { createServer, STATUS_CODES, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fixedSecurityHeaders } from './security.ts';

/** The app's HTTP server: src/server.ts serves with it, and the fuzz suite tests it. */
export function createHttpServer(listener: RequestListener): Server {
  const server = createServer(listener);
  answerOutsideTheApp(server);
  return server;
}

/**
 * Some requests never reach the app. Node's HTTP parser refuses headers over its 16 KB limit,
 * a request line or header it cannot parse, conflicting lengths, broken chunking, an unknown
 * method, and answers with a bare status line without a body; a CONNECT request gets its
 * connection dropped without any answer. These are answered here in the app's error shape,
 * with the same security headers as every other answer, and the connection is closed (what
 * follows on it cannot be trusted to be a request boundary).
 */
function answerOutsideTheApp(server: Server): void {
  const security = fixedSecurityHeaders();
  const refuse = (socket: Duplex, status: number, code: string, message: string, bodyless: boolean) => {
    const body = JSON.stringify({ error: { code, message } });
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`];
    for (let i = 0; i < security.length; i += 2) lines.push(`${security[i]}: ${security[i + 1]}`);
    lines.push('Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close');
    socket.end(`${lines.join('\r\n')}\r\n\r\n${bodyless ? '' : body}`);
  };

  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    // Node hangs this on the socket while a response is in flight (keep-alive, pipelining).
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    // An answer to HEAD has no body. The packet the parser failed on starts with the request
    // line when it is the request's first (as it is for oversized headers on a new connection).
    const toHead = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    switch (err.code) {
      case 'HPE_HEADER_OVERFLOW':
        refuse(socket, 431, 'headers_too_large', 'The request line and headers exceed 16 KB', toHead);
        break;
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        refuse(socket, 408, 'request_timeout', 'The request did not arrive in time', toHead);
        break;
      default:
        refuse(socket, 400, 'malformed_request', 'The request is not valid HTTP/1.1', toHead);
    }
  });

  // Gatehouse is no proxy. (Without a listener Node closes the connection without a word.)
  server.on('connect', (_req, socket: Duplex) => {
    refuse(socket, 405, 'method_not_allowed', 'CONNECT is not supported', false);
  });
}
