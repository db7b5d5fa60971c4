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

/** An absolute http(s) URL without trailing slashes; shared with the CLI's `db update`. */
export const httpUrl = z
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
  .refine((value) => !/[?#]/.test(value), 'expected a URL without query or fragment')
  .transform((value) => value.replace(/\/+$/, ''));

/** True for http(s) URLs on a loopback host: the only place plain http is accepted for Forge (tests, the simulator). */
export function isHttpsOrLoopback(value: string): boolean {
  const url = new URL(value);
  if (url.protocol === 'https:') return true;
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

export const FORGE_APP_ARI = /^ari:cloud:ecosystem::app\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DEFAULT_FORGE_JWKS_URL = 'https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json';

export const DEFAULT_OSV_MIRROR_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

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
  OSV_MIRROR_URL: httpUrl.default(DEFAULT_OSV_MIRROR_URL),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  WORKER_CONCURRENCY: z.coerce
    .number({ error: 'expected a whole number of jobs between 1 and 64' })
    .int('expected a whole number of jobs between 1 and 64')
    .min(1, 'expected a whole number of jobs between 1 and 64')
    .max(64, 'expected a whole number of jobs between 1 and 64')
    .default(4),
  TENANT_QUEUE_LIMIT: z.coerce
    .number({ error: 'expected a whole number of jobs between 1 and 100000' })
    .int('expected a whole number of jobs between 1 and 100000')
    .min(1, 'expected a whole number of jobs between 1 and 100000')
    .max(100_000, 'expected a whole number of jobs between 1 and 100000')
    .optional(),
  BITBUCKET_CALL_BUDGET: z
    .string()
    .regex(/^\d{1,9}\/\d{1,12}$/, 'expected burst/perHour, two whole numbers, e.g. 600/3600')
    .transform((v) => {
      const [burst = 0, perHour = 0] = v.split('/').map(Number);
      return { burst, perHour };
    })
    .refine((b) => b.burst >= 1 && b.perHour >= 1, 'expected a burst and a rate per hour of at least 1')
    .optional(),
  DELIVERY_RETENTION_DAYS: z
    .string()
    .trim()
    .regex(/^\d{1,4}(\.\d{1,6})?$/, 'expected a number of days such as 7 or 0.5')
    .transform(Number)
    .refine((days) => days > 0 && days <= 3650, 'expected more than 0 and at most 3650 days')
    .default(7),
  FORGE_APP_ID: z.string().trim().regex(FORGE_APP_ARI, 'expected the Forge app ARI, ari:cloud:ecosystem::app/<uuid>').optional(),
  FORGE_JWKS_URL: httpUrl.refine(isHttpsOrLoopback, 'expected an https URL (plain http only on a loopback host)').default(DEFAULT_FORGE_JWKS_URL),
  FORGE_API_URLS: originList
    .refine((origins) => origins.every(isHttpsOrLoopback), 'expected https origins (plain http only on a loopback host)')
    .default(['https://api.bitbucket.org']),
  DATABASE_URL: z
    .string()
    .trim()
    .refine((value) => {
      try {
        return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, 'expected a postgres://user@host:port/database URL')
    .optional(),
  ADMIN_TOKEN: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,512}$/, 'expected 1 to 512 printable characters without spaces')
    .optional(),
  OSV_UPDATE_INTERVAL: z
    .string()
    .trim()
    .regex(/^(0|\d{1,6}(\.\d{1,3})?(ms|s|m|h|d))$/, 'expected 0 (never) or a duration such as 20s, 15m, 6h')
    .transform(durationMs)
    .refine((ms) => ms === 0 || ms >= 1000, 'expected 0 (never) or at least 1s')
    .default(6 * 60 * 60_000),
  DATA_DIR_LOCK_OTHER_HOST: z
    .enum(['refuse', 'take-over'], { error: 'expected refuse or take-over' })
    .default('refuse'),
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
  /** OSV_UPDATE_INTERVAL: how often the server refreshes the OSV database itself; 0 = never. */
  osvUpdateIntervalMs?: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Jobs the worker pool runs at once (WORKER_CONCURRENCY); the pipeline's default when absent. */
  workerConcurrency?: number;
  /** Queued jobs one installation may have before its deliveries get 429 (TENANT_QUEUE_LIMIT); a default when absent. */
  tenantQueueLimit?: number;
  /** Outbound Bitbucket calls per installation (BITBUCKET_CALL_BUDGET, burst/perHour); the pipeline's default (600/3600) when absent. */
  callBudget?: { burst: number; perHour: number };
  /**
   * DELIVERY_RETENTION_DAYS: how long delivery ids are remembered to recognise redeliveries,
   * and how long finished jobs and their payloads stay stored (decimal days allowed).
   */
  deliveryRetentionDays?: number;
  /** The Forge front door; absent (off) unless FORGE_APP_ID is set. */
  forge?: ForgeConfig;
  /** DATABASE_URL: PostgreSQL holds everything the stores keep (several instances may share it); unset, the embedded store in DATA_DIR. */
  databaseUrl?: string;
  /** ADMIN_TOKEN: bearer token of the operator API (/admin/*); the API is off without it. */
  adminToken?: string;
  /** DATA_DIR_LOCK_OTHER_HOST=take-over: a DATA_DIR lock left by another host is taken over (that host is gone). */
  takeOverLockFromOtherHost?: boolean;
}

export interface ForgeConfig {
  /** FORGE_APP_ID: the only FIT `aud` accepted, and the manifest's `app.id`. */
  appId: string;
  /** FORGE_JWKS_URL: where FIT signing keys are fetched. */
  jwksUrl: string;
  /** FORGE_API_URLS: origins an installation's apiBaseUrl may name (SSRF guard). */
  apiUrls: string[];
}

export type ConfigResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; problems: string[] };

const KEY_FILE = 'encryption.key';
/** 32 characters: e.g. `openssl rand -hex 16`. */
const MIN_STRONG_ADMIN_TOKEN = 32;

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
      // Never echo ENCRYPTION_KEY, ADMIN_TOKEN or DATABASE_URL (which may carry a password), even malformed.
      const got = name === 'ENCRYPTION_KEY' || name === 'ADMIN_TOKEN' || name === 'DATABASE_URL' ? '' : ` (got ${JSON.stringify(env[name] ?? '')})`;
      problems.push(`${name}: ${issue.message}${got}`);
    }
  }
  // Checked from the raw environment so that a key problem is reported together with the
  // schema problems: the operator fixes everything in one round.
  const rawKey = typeof cleaned.ENCRYPTION_KEY === 'string' ? cleaned.ENCRYPTION_KEY.trim() : undefined;
  const production = cleaned.NODE_ENV === 'production';
  let encryptionKey: Buffer | undefined;
  if (rawKey !== undefined) {
    encryptionKey = parseEncryptionKey(rawKey);
    if (!encryptionKey) problems.push('ENCRYPTION_KEY: expected 32 bytes as 64 hex characters or base64');
  } else if (production) {
    problems.push('ENCRYPTION_KEY: required when NODE_ENV=production (32 bytes, hex or base64)');
  } else if (cleaned.DATABASE_URL !== undefined) {
    // A key generated per instance would leave each instance unable to read the tenant secrets
    // the others stored in the shared database; refused before anything is written.
    problems.push('ENCRYPTION_KEY: required with DATABASE_URL (every instance sharing the database must decrypt the same tenant secrets; 32 bytes, hex or base64)');
  }
  if (parsed.success && production) {
    // Bitbucket installs production apps from https descriptors only; JWTs must not cross plain HTTP.
    const baseUrl = parsed.data.BASE_URL;
    if (baseUrl === undefined) problems.push('BASE_URL: required when NODE_ENV=production (the public https URL of this app)');
    else if (!baseUrl.startsWith('https:')) problems.push(`BASE_URL: expected an https URL when NODE_ENV=production (got ${JSON.stringify(baseUrl)})`);
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const warnings: string[] = [];
  if (e.ADMIN_TOKEN !== undefined && e.ADMIN_TOKEN.length < MIN_STRONG_ADMIN_TOKEN) {
    warnings.push(`ADMIN_TOKEN is shorter than ${MIN_STRONG_ADMIN_TOKEN} characters: anyone who guesses it manages Data Center instances; use a long random value`);
  }

  if (!encryptionKey) {
    const keyPath = path.join(dataDir, KEY_FILE);
    if (existsSync(keyPath)) {
      const stored = parseEncryptionKey(readFileSync(keyPath, 'utf8').trim());
      if (!stored) return { ok: false, problems: [`ENCRYPTION_KEY: not set, and ${keyPath} does not hold a valid key`] };
      encryptionKey = stored;
      warnings.push(`ENCRYPTION_KEY not set: using the generated key in ${keyPath}; set ENCRYPTION_KEY in production`);
    } else {
      encryptionKey = randomBytes(32);
      try {
        // Owner-only: the key file is 0600, and the stores beside it hold tenant data.
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        writeFileSync(keyPath, encryptionKey.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        const reason = err instanceof Error && 'code' in err ? String(err.code) : 'write failed';
        return { ok: false, problems: [`DATA_DIR: cannot write a generated ENCRYPTION_KEY to ${keyPath} (${reason}); make the directory writable or set ENCRYPTION_KEY`] };
      }
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
      osvUpdateIntervalMs: e.OSV_UPDATE_INTERVAL,
      logLevel: e.LOG_LEVEL,
      workerConcurrency: e.WORKER_CONCURRENCY,
      ...(e.TENANT_QUEUE_LIMIT === undefined ? {} : { tenantQueueLimit: e.TENANT_QUEUE_LIMIT }),
      ...(e.BITBUCKET_CALL_BUDGET === undefined ? {} : { callBudget: e.BITBUCKET_CALL_BUDGET }),
      takeOverLockFromOtherHost: e.DATA_DIR_LOCK_OTHER_HOST === 'take-over',
      ...(e.ADMIN_TOKEN === undefined ? {} : { adminToken: e.ADMIN_TOKEN }),
      deliveryRetentionDays: e.DELIVERY_RETENTION_DAYS,
      ...(e.FORGE_APP_ID === undefined ? {} : { forge: { appId: e.FORGE_APP_ID, jwksUrl: e.FORGE_JWKS_URL, apiUrls: e.FORGE_API_URLS } }),
      ...(e.DATABASE_URL === undefined ? {} : { databaseUrl: e.DATABASE_URL }),
    },
  };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `20s`, `15m`, `6h`, `1.5d`, `0` to milliseconds (the pattern was checked first). */
function durationMs(text: string): number {
  if (text === '0') return 0;
  const [, amount, unit] = /^([\d.]+)([a-z]+)$/.exec(text)!;
  return Math.round(Number(amount) * DURATION_UNITS_MS[unit!]!);
}
