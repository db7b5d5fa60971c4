import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Configuration comes from environment variables only (../shared/CONTRACT.md).
 * `loadConfig` never throws a stack trace at the operator: it returns either a config
 * or one readable line per problem, and the server prints those and exits before it listens.
 */

const origin = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, '');
    } catch {
      return false;
    }
  }, 'expected an origin such as https://bitbucket.org (scheme, host and optional port; no path)')
  .transform((value) => new URL(value).origin);

const originList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(origin).min(1, 'expected a comma-separated list of at least one origin'));

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'expected an absolute http(s) URL')
  .transform((value) => value.replace(/\/+$/, ''));

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: z.coerce
    .number({ error: 'expected a port number between 0 and 65535' })
    .int('expected a whole port number')
    .min(0, 'expected a port number between 0 and 65535')
    .max(65535, 'expected a port number between 0 and 65535')
    .default(3000),
  BASE_URL: httpUrl.optional(),
  DATA_DIR: z.string().trim().min(1, 'expected a directory path').default('./data'),
  APP_KEY: z
    .string()
    .trim()
    .regex(/^[a-zA-Z0-9._-]{1,64}$/, 'expected 1 to 64 letters, digits, dots, dashes or underscores')
    .default('gatehouse'),
  ENCRYPTION_KEY: z.string().trim().optional(),
  BITBUCKET_BASE_URLS: originList.default(['https://bitbucket.org']),
  BITBUCKET_API_URLS: originList.default(['https://api.bitbucket.org']),
  OSV_MIRROR_URL: httpUrl.default('https://osv-vulnerabilities.storage.googleapis.com'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

export interface Config {
  production: boolean;
  port: number;
  /** No trailing slash. */
  baseUrl: string;
  dataDir: string;
  appKey: string;
  /** 32 bytes. */
  encryptionKey: Buffer;
  bitbucketBaseUrls: string[];
  bitbucketApiUrls: string[];
  osvMirrorUrl: string;
  logLevel: (typeof LOG_LEVELS)[number];
}

export type ConfigResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; problems: string[] };

const KEY_FILE = 'encryption.key';

/** Accepts 32 bytes as 64 hex characters or as base64 (standard or URL-safe). */
export function parseEncryptionKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const buf = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  // Empty strings mean "not set", as shells and .env files commonly produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      problems.push(`${name}: ${issue.message} (got ${JSON.stringify(env[name] ?? '')})`);
    }
    return { ok: false, problems };
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const dataDir = path.resolve(e.DATA_DIR);
  const warnings: string[] = [];

  let encryptionKey: Buffer | undefined;
  if (e.ENCRYPTION_KEY !== undefined) {
    encryptionKey = parseEncryptionKey(e.ENCRYPTION_KEY);
    // Never echo the value: it is a secret even when malformed.
    if (!encryptionKey) problems.push('ENCRYPTION_KEY: expected 32 bytes as 64 hex characters or base64');
  } else if (production) {
    problems.push('ENCRYPTION_KEY: required when NODE_ENV=production (32 bytes, hex or base64)');
  }
  if (problems.length > 0) return { ok: false, problems };

  if (!encryptionKey) {
    const keyPath = path.join(dataDir, KEY_FILE);
    if (existsSync(keyPath)) {
      const stored = parseEncryptionKey(readFileSync(keyPath, 'utf8').trim());
      if (!stored) return { ok: false, problems: [`ENCRYPTION_KEY: not set, and ${keyPath} does not hold a valid key`] };
      encryptionKey = stored;
      warnings.push(`ENCRYPTION_KEY not set: using the generated key in ${keyPath}; set ENCRYPTION_KEY in production`);
    } else {
      mkdirSync(dataDir, { recursive: true });
      encryptionKey = randomBytes(32);
      writeFileSync(keyPath, encryptionKey.toString('hex') + '\n', { mode: 0o600 });
      warnings.push(`ENCRYPTION_KEY not set: generated a new key into ${keyPath}; set ENCRYPTION_KEY in production`);
    }
  }

  return {
    ok: true,
    warnings,
    config: {
      production,
      port: e.PORT,
      baseUrl: e.BASE_URL ?? `http://localhost:${e.PORT}`,
      dataDir,
      appKey: e.APP_KEY,
      encryptionKey,
      bitbucketBaseUrls: e.BITBUCKET_BASE_URLS,
      bitbucketApiUrls: e.BITBUCKET_API_URLS,
      osvMirrorUrl: e.OSV_MIRROR_URL,
      logLevel: e.LOG_LEVEL,
    },
  };
}
