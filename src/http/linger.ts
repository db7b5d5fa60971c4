import type { IncomingMessage } from 'node:http';

/**
 * Lingering close for a request whose body is refused unread (413, 415), as nginx does.
 *
 * Closing a socket while the client's body bytes are still arriving makes the kernel answer
 * them with a reset, and a reset discards whatever the client has received but not read
 * yet: a client that writes its whole body before reading (most do) never sees the 413.
 * Instead, once the answer is written, only our sending side is shut (FIN after the answer)
 * and the rest of the body is read and thrown away, until it ends, the client goes away, or
 * a byte or time bound is hit; only then is the socket closed.
 *
 * Node's server closes a `Connection: close` response's socket with `socket.destroySoon()`
 * once the answer is flushed; this replaces that one call for this one socket.
 */

export interface LingerLimits {
  /** Body bytes read and discarded after the refusal before the socket is closed anyway. */
  maxBytes: number;
  /** How long the socket may linger after the refusal. */
  maxMs: number;
}

export const LINGER_DEFAULTS: LingerLimits = { maxBytes: 16 * 1024 * 1024, maxMs: 5_000 };

export function lingerAfterRefusal(req: IncomingMessage, limits: LingerLimits = LINGER_DEFAULTS): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    let discarded = 0;
    const close = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(close, limits.maxMs);
    timer.unref();
    // Node may already have removed its own listeners and resumed the request to drain it
    // (`req._dump()`); ours is added after that, so it counts what is discarded either way.
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > limits.maxBytes) close();
    });
    // The whole body arrived, or the client gave up: nothing is left in flight to reset.
    req.once('end', close);
    req.once('error', close);
    socket.once('end', close);
    socket.once('close', () => clearTimeout(timer));
    req.resume();
    socket.end();
  };
}
