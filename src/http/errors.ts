import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '../log.ts';

/**
 * Every error the app itself answers is `{"error":{"code","message"}}` (CONTRACT.md).
 * Codes are stable identifiers a client can branch on; messages are for people and never
 * carry a token, a secret or a stack trace.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/** Validates request input, or answers 400 naming every problem (`field: message; ...`). */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
    throw new HttpError(400, 'invalid_request', problems);
  }
  return parsed.data;
}

/**
 * A JSON answer written straight to Node's response: Express's res.json() also negotiates
 * charset, ETag and freshness, none of which an API answer here uses, on every call.
 * Headers set earlier (security headers) are kept; `headers` adds more, as a flat
 * `[name, value, ...]` list (the webhook intake passes its precomputed security headers).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: readonly string[] = []): void {
  const text = JSON.stringify(body);
  res.writeHead(status, [...headers, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(text))]);
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers?: readonly string[]): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `No route for ${req.method} ${req.path}`);
};

interface BodyParserError {
  type?: unknown;
  status?: unknown;
}

/** Maps body-parser failures (express.json / express.raw) onto the JSON error shape. */
function fromBodyParser(err: BodyParserError): HttpError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'Request body exceeds the 1 MB limit');
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed_json', 'Request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', 'Request body encoding is not supported');
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'The client aborted the request');
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = err instanceof HttpError ? err : fromBodyParser((err ?? {}) as BodyParserError);
    if (known) {
      sendError(res, known.status, known.code, known.message);
      return;
    }
    // Unexpected: log the detail for operators, answer the client without it.
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
    sendError(res, 500, 'internal_error', 'Internal server error');
  };
}
