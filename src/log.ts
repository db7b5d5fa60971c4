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

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
