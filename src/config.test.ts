import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseEncryptionKey } from './config.ts';

const HEX_KEY = 'ab'.repeat(32);
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: NodeJS.ProcessEnv): string[] {
  const result = loadConfig({ DATA_DIR: dir, ...env });
  if (result.ok) throw new Error('expected configuration problems');
  return result.problems;
}

describe('loadConfig defaults', () => {
  it('starts with nothing set, generating a key into DATA_DIR with a warning', () => {
    const result = loadConfig({ DATA_DIR: dir });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config).toMatchObject({
      port: 3000,
      baseUrl: 'http://localhost:3000',
      appKey: 'gatehouse',
      bitbucketBaseUrls: ['https://bitbucket.org'],
      bitbucketApiUrls: ['https://api.bitbucket.org'],
      logLevel: 'info',
      production: false,
    });
    expect(result.config.encryptionKey).toHaveLength(32);
    expect(result.warnings.join('\n')).toContain('ENCRYPTION_KEY not set');
    const keyFile = path.join(dir, 'encryption.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // The next start reuses the same key, or stored secrets would become unreadable.
    const again = loadConfig({ DATA_DIR: dir });
    expect(again.ok && again.config.encryptionKey.equals(result.config.encryptionKey)).toBe(true);
  });

  it('creates a missing DATA_DIR owner-only', () => {
    const fresh = path.join(dir, 'fresh');
    expect(loadConfig({ DATA_DIR: fresh }).ok).toBe(true);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
  });

  it('derives BASE_URL from PORT and trims list entries', () => {
    const result = loadConfig({ DATA_DIR: dir, PORT: '8080', ENCRYPTION_KEY: HEX_KEY, BITBUCKET_API_URLS: ' http://127.0.0.1:4101 , https://api.bitbucket.org/ ' });
    expect(result.ok && result.config.baseUrl).toBe('http://localhost:8080');
    expect(result.ok && result.config.bitbucketApiUrls).toEqual(['http://127.0.0.1:4101', 'https://api.bitbucket.org']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATA_DIR: dir, PORT: '', LOG_LEVEL: '' }).ok).toBe(true);
  });
});

describe('loadConfig problems: one line per problem, naming the variable', () => {
  it('reports every bad variable at once', () => {
    const lines = problems({
      PORT: 'eighty',
      BASE_URL: 'ftp://x',
      APP_KEY: 'has spaces',
      BITBUCKET_BASE_URLS: 'https://bitbucket.org/some/path',
      LOG_LEVEL: 'loud',
    });
    expect(lines.map((l) => l.split(':')[0])).toEqual(['PORT', 'BASE_URL', 'APP_KEY', 'BITBUCKET_BASE_URLS', 'LOG_LEVEL']);
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it('reports a production ENCRYPTION_KEY problem together with schema problems', () => {
    const lines = problems({ NODE_ENV: 'production', PORT: '99999', BASE_URL: 'https://g.example' });
    expect(lines).toEqual([
      expect.stringMatching(/^PORT: /),
      'ENCRYPTION_KEY: required when NODE_ENV=production (32 bytes, hex or base64)',
    ]);
  });

  it('requires an https BASE_URL in production', () => {
    expect(problems({ NODE_ENV: 'production', ENCRYPTION_KEY: HEX_KEY })).toEqual([expect.stringMatching(/^BASE_URL: required/)]);
    expect(problems({ NODE_ENV: 'production', ENCRYPTION_KEY: HEX_KEY, BASE_URL: 'http://g.example' })).toEqual([
      expect.stringMatching(/^BASE_URL: expected an https URL/),
    ]);
  });

  it('rejects a BASE_URL with a query', () => {
    expect(problems({ BASE_URL: 'https://g.example/?x=1' })[0]).toMatch(/^BASE_URL: expected a URL without query/);
  });

  it('reads BITBUCKET_CALL_BUDGET as burst/perHour and refuses anything else', () => {
    const result = loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: HEX_KEY, BITBUCKET_CALL_BUDGET: '5000/200000' });
    expect(result.ok && result.config.callBudget).toEqual({ burst: 5000, perHour: 200000 });
    expect(problems({ BITBUCKET_CALL_BUDGET: '600' })[0]).toMatch(/^BITBUCKET_CALL_BUDGET: expected burst\/perHour/);
    expect(problems({ BITBUCKET_CALL_BUDGET: '0/3600' })[0]).toMatch(/^BITBUCKET_CALL_BUDGET: expected a burst and a rate per hour of at least 1/);
  });

  it('never echoes a malformed ENCRYPTION_KEY', () => {
    const lines = problems({ ENCRYPTION_KEY: 'short-but-secret-value' });
    expect(lines).toEqual(['ENCRYPTION_KEY: expected 32 bytes as 64 hex characters or base64']);
  });

  it('requires ENCRYPTION_KEY with DATABASE_URL, generating no key of its own', () => {
    expect(problems({ DATABASE_URL: 'postgres://gatehouse:pw@db.example/gatehouse' })).toEqual([
      'ENCRYPTION_KEY: required with DATABASE_URL (every instance sharing the database must decrypt the same tenant secrets; 32 bytes, hex or base64)',
    ]);
    expect(existsSync(path.join(dir, 'encryption.key'))).toBe(false);
    const shared = loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://gatehouse:pw@db.example/gatehouse', ENCRYPTION_KEY: HEX_KEY });
    expect(shared.ok && shared.warnings).toEqual([]);
  });

  it('refuses a corrupted generated key file rather than silently replacing it', () => {
    writeFileSync(path.join(dir, 'encryption.key'), 'garbage\n');
    expect(problems({})[0]).toMatch(/^ENCRYPTION_KEY: not set, and .* does not hold a valid key/);
    expect(readFileSync(path.join(dir, 'encryption.key'), 'utf8')).toBe('garbage\n');
  });
});

describe('parseEncryptionKey', () => {
  it('accepts 32 bytes as hex, base64 and base64url', () => {
    const bytes = Buffer.alloc(32, 0xfb);
    expect(parseEncryptionKey(bytes.toString('hex'))).toEqual(bytes);
    expect(parseEncryptionKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseEncryptionKey(bytes.toString('base64url'))).toEqual(bytes);
  });
  it('rejects other lengths', () => {
    expect(parseEncryptionKey(Buffer.alloc(16).toString('hex'))).toBeUndefined();
    expect(parseEncryptionKey(Buffer.alloc(31).toString('base64'))).toBeUndefined();
  });
});

describe('DATA_DIR_LOCK_OTHER_HOST', () => {
  it('refuses another host lock by default, takes it over only when told, and rejects anything else', () => {
    const load = (env: NodeJS.ProcessEnv) => {
      const result = loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: HEX_KEY, ...env });
      if (!result.ok) throw new Error(result.problems.join('\n'));
      return result.config.takeOverLockFromOtherHost;
    };
    expect(load({})).toBe(false);
    expect(load({ DATA_DIR_LOCK_OTHER_HOST: 'take-over' })).toBe(true);
    expect(problems({ DATA_DIR_LOCK_OTHER_HOST: 'yes' })).toEqual(['DATA_DIR_LOCK_OTHER_HOST: expected refuse or take-over (got "yes")']);
  });
});

describe('DELIVERY_RETENTION_DAYS', () => {
  it('defaults to 7 days, takes decimal days, and refuses what is not a positive number of days', () => {
    const days = (value?: string) => {
      const result = loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: HEX_KEY, ...(value === undefined ? {} : { DELIVERY_RETENTION_DAYS: value }) });
      if (!result.ok) throw new Error(result.problems.join('\n'));
      return result.config.deliveryRetentionDays;
    };
    expect(days()).toBe(7);
    expect(days('0.5')).toBe(0.5);
    expect(days(' 30 ')).toBe(30);
    for (const bad of ['0', '-1', 'seven', '1e3', 'Infinity', '7d', '99999']) {
      expect(problems({ DELIVERY_RETENTION_DAYS: bad })[0], bad).toMatch(/^DELIVERY_RETENTION_DAYS: expected/);
    }
  });
});

describe('Forge variables', () => {
  const APP_ID = 'ari:cloud:ecosystem::app/8db33809-1f32-48bb-8c52-5877dab48107';
  const forge = (env: NodeJS.ProcessEnv) => {
    const result = loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: HEX_KEY, ...env });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    return result.config.forge;
  };

  it('leaves the Forge front door off until FORGE_APP_ID is set, then defaults to Atlassian', () => {
    expect(forge({})).toBeUndefined();
    expect(forge({ FORGE_APP_ID: APP_ID })).toEqual({
      appId: APP_ID,
      jwksUrl: 'https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json',
      apiUrls: ['https://api.bitbucket.org'],
    });
  });

  it('accepts loopback http for the JWKS and API origins, and nothing else over plain http', () => {
    expect(forge({ FORGE_APP_ID: APP_ID, FORGE_JWKS_URL: 'http://127.0.0.1:4102/jwks.json', FORGE_API_URLS: 'http://127.0.0.1:4101, https://api.bitbucket.org' })).toMatchObject({
      jwksUrl: 'http://127.0.0.1:4102/jwks.json',
      apiUrls: ['http://127.0.0.1:4101', 'https://api.bitbucket.org'],
    });
    expect(problems({ FORGE_APP_ID: APP_ID, FORGE_JWKS_URL: 'http://keys.example.com/jwks.json' })[0]).toMatch(/^FORGE_JWKS_URL: expected an https URL/);
    expect(problems({ FORGE_API_URLS: 'http://api.example.com' })[0]).toMatch(/^FORGE_API_URLS: expected https origins/);
    expect(problems({ FORGE_APP_ID: '406d303d-0393-4ec4-ad7c-1435be94583a' })[0]).toMatch(/^FORGE_APP_ID: expected the Forge app ARI/);
  });
});

describe('OSV_UPDATE_INTERVAL', () => {
  const interval = (value?: string) => {
    const result = loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: HEX_KEY, ...(value === undefined ? {} : { OSV_UPDATE_INTERVAL: value }) });
    if (!result.ok) throw new Error(result.problems.join('; '));
    return result.config.osvUpdateIntervalMs;
  };

  it('reads durations, 0 for never, 6 hours by default', () => {
    expect([interval('20s'), interval('15m'), interval('6h'), interval('1.5d'), interval('0'), interval()]).toEqual([20_000, 900_000, 21_600_000, 129_600_000, 0, 21_600_000]);
  });

  it('refuses what is not a duration, or under a second', () => {
    for (const bad of ['6', 'soon', '-1h', '500ms', '1w']) expect(problems({ ENCRYPTION_KEY: HEX_KEY, OSV_UPDATE_INTERVAL: bad })[0], bad).toMatch(/^OSV_UPDATE_INTERVAL: expected 0 \(never\)/);
  });
});
