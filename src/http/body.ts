import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

/**
 * Reads a request body into one Buffer, refusing more than `limit` bytes: a declared
 * Content-Length over the limit is refused before anything is read, and a body that grows
 * past it (chunked) stops being read at once. Only identity encoding is accepted; nothing
 * that posts to us (Bitbucket's webhooks) compresses, and inflating is how a small body
 * becomes a large one.
 *
 * This replaces body-parser on the webhook route, where its generality (charset and type
 * negotiation, inflation, verify hooks) was a measurable share of each acknowledgement.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    return Promise.reject(new HttpError(415, 'unsupported_encoding', 'Request body encoding is not supported; send it uncompressed'));
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        // Stop reading; the error answer is sent and the connection is not kept for more.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onError = () => {
      cleanup();
      reject(aborted());
    };
    // 'close' before 'end': the client went away mid-body.
    const onClose = () => {
      cleanup();
      reject(aborted());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `Request body exceeds the ${limit / (1024 * 1024)} MB limit`);
}

function aborted(): HttpError {
  return new HttpError(400, 'request_aborted', 'The client aborted the request');
}
