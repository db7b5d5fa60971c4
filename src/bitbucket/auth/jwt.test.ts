import { createHash } from 'node:crypto';
import { decodeSymmetric, SymmetricAlgorithm } from 'atlassian-jwt';
import { describe, expect, it } from 'vitest';
import { JWT_LIFETIME_SECONDS, queryStringHash, signRequestJwt } from './jwt.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const API = new URL('https://api.bitbucket.org');

// Canonical strings written by hand from the qsh rules in BITBUCKET.md.
describe('queryStringHash', () => {
  it.each([
    ['GET', '/2.0/repositories/ws/repo', 'GET&/2.0/repositories/ws/repo&'],
    ['get', '/2.0/repositories/ws/repo/', 'GET&/2.0/repositories/ws/repo&'],
    ['GET', '/2.0/x?b=2&a=1&a=0', 'GET&/2.0/x&a=0,1&b=2'],
    ['GET', '/2.0/x?q=a%20b%2Bc&jwt=ignored', 'GET&/2.0/x&q=a%20b%2Bc'],
    ['GET', '/2.0/x?star=*&tilde=~', 'GET&/2.0/x&star=%2A&tilde=~'],
    ['GET', '/2.0/diff/ws/repo:abc%0Ddef', 'GET&/2.0/diff/ws/repo:abc%0Ddef&'],
    ['PUT', '/2.0/a&b', 'PUT&/2.0/a%26b&'],
  ])('%s %s', (method, path, canonical) => {
    expect(queryStringHash(method, new URL(path, API), API)).toBe(sha256(canonical));
  });

  it('makes the path relative to a base URL with a path prefix', () => {
    const base = new URL('https://proxy.example/bitbucket');
    expect(queryStringHash('GET', new URL('https://proxy.example/bitbucket/2.0/user'), base)).toBe(sha256('GET&/2.0/user&'));
  });
});

describe('signRequestJwt', () => {
  it('issues an HS256 token for the app, about the installation, valid for 3 minutes', () => {
    const keys = { appKey: 'app', clientKey: 'tenant', sharedSecret: 's3cret' };
    const url = new URL('/2.0/repositories/ws?pagelen=10', API);
    const token = signRequestJwt(keys, 'GET', url, API, 1_700_000_000_999);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'HS256' });
    expect(decodeSymmetric(token, 's3cret', SymmetricAlgorithm.HS256)).toEqual({
      iss: 'app',
      sub: 'tenant',
      iat: 1_700_000_000,
      exp: 1_700_000_000 + JWT_LIFETIME_SECONDS,
      qsh: sha256('GET&/2.0/repositories/ws&pagelen=10'),
    });
    expect(JWT_LIFETIME_SECONDS).toBeLessThanOrEqual(180);
  });
});
