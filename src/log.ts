import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a logged object. Tokens travel in the
 * Authorization header and in the `jwt` query parameter of iframe loads; shared secrets
 * arrive in the install body. None of them may reach a log line, even at debug level.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'jwt',
  'token',
  'query.jwt',
  'req.query.jwt',
  'sharedSecret',
  'body.sharedSecret',
  '*.sharedSecret',
  'encryptedSharedSecret',
  '*.encryptedSharedSecret',
];

/** Under load, lines are written in batches of at least this many bytes... */
const BATCH_BYTES = 4096;
/** ...and when traffic is light, no line waits longer than this to be written. */
const MAX_DELAY_MS = 250;

/**
 * Where the app's lines go: a file descriptor (stdout by default) written asynchronously in
 * batches. pino's default writes each line with its own synchronous write(2), which was
 * the largest single cost of a webhook acknowledgement after parsing; batching makes it a
 * few percent. pino flushes the batch when the process exits, so only a SIGKILL can lose the
 * last quarter second of lines.
 */
export function logDestination(fd = 1): pino.DestinationStream {
  const stream = pino.destination({ dest: fd, sync: false, minLength: BATCH_BYTES });
  const timer = setInterval(() => stream.flush(), MAX_DELAY_MS);
  timer.unref();
  stream.on('close', () => clearInterval(timer));
  return stream;
}

/** One stdout stream per process, however many loggers write to it. */
let stdout: pino.DestinationStream | undefined;

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination ?? (stdout ??= logDestination()));
}
