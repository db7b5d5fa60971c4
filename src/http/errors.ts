import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '../log.ts';
import { StoreUnavailableError } from '../store/unavailable.ts';

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

/**
 * An error raised by Express's own layers: body-parser, raw-body and the router use the
 * http-errors shape (`status`, `expose`, and for the body parsers a `type`).
 */
interface LayerError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  limit?: unknown;
}

/** Body-parser failures by `type`, each with our code and a message that names no internals. */
const BODY_ERRORS: Readonly<Record<string, (err: LayerError) => HttpError>> = {
  'entity.too.large': (err) => new HttpError(413, 'payload_too_large', `Request body exceeds the ${sizeOf(err.limit)} limit`),
  'entity.parse.failed': () => new HttpError(400, 'malformed_json', 'Request body is not valid JSON'),
  'encoding.unsupported': () => new HttpError(415, 'unsupported_encoding', 'Request body encoding is not supported'),
  'charset.unsupported': () => new HttpError(415, 'unsupported_encoding', 'Request body encoding is not supported'),
  'request.aborted': () => new HttpError(400, 'request_aborted', 'The client aborted the request'),
  'request.size.invalid': () => new HttpError(400, 'length_mismatch', 'Request body length does not match its Content-Length'),
  'parameters.too.many': () => new HttpError(413, 'too_many_fields', 'The form has too many fields'),
  'querystring.parse.rangeError': () => new HttpError(400, 'malformed_form', 'The form cannot be parsed'),
};

function sizeOf(limit: unknown): string {
  if (typeof limit !== 'number') return 'size';
  return limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} MB` : `${Math.round(limit / 1024)} KB`;
}

/**
 * Maps the failures of Express's layers onto the JSON error shape. A client error without a
 * known type (a body that does not inflate, a path that does not percent-decode) keeps its
 * status under a generic code: its own message may quote the input or a library's words.
 */
function fromExpressLayer(err: LayerError): HttpError | undefined {
  const known = typeof err.type === 'string' && Object.hasOwn(BODY_ERRORS, err.type) ? BODY_ERRORS[err.type] : undefined;
  if (known) return known(err);
  // http-errors marks what a client may be told with `expose`; the router's undecodable path is a bare URIError.
  const clientError = err.expose === true || (err instanceof URIError && err.status === 400);
  if (clientError && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
    return new HttpError(err.status, 'bad_request', 'The request cannot be processed as sent');
  }
  return undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof StoreUnavailableError) {
      sendStoreUnavailable(res, logger, err);
      return;
    }
    const known = err instanceof HttpError ? err : fromExpressLayer((err ?? {}) as LayerError);
    if (known) {
      sendError(res, known.status, known.code, known.message);
      return;
    }
    // Unexpected: log the detail for operators, answer the client without it.
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
    sendError(res, 500, 'internal_error', 'Internal server error');
  };
}

/**
 * The database is down or restarting: 503 with a Retry-After, so that a caller (Bitbucket
 * redelivering a webhook, a panel reloading) tries again rather than giving up.
 */
export function sendStoreUnavailable(res: ServerResponse, logger: Logger, err: StoreUnavailableError, headers: readonly string[] = []): void {
  logger.warn({ err: { message: err.message } }, 'store unavailable; answered 503');
  sendError(res, 503, 'store_unavailable', 'The store is unavailable for a moment; try again shortly', [...headers, 'Retry-After', String(err.retryAfterSeconds)]);
}
